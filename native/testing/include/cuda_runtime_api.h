// The CUDA simulator stands in for the CUDA runtime in the test build (see ../cuda_sim.h).
#pragma once
#include "../cuda_sim.h"
