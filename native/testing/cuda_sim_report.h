// What the CUDA simulator found (cuda_sim.cpp): one report per failed check, for the test driver.
#pragma once

#include <string>
#include <vector>

namespace fml_sim {

enum class Check { Memcheck, Racecheck, Initcheck, Synccheck, Launch };
const char* check_name(Check c);

struct Report {
  Check check;
  std::string message;
};
// The reports since the last call (and clears the last error, like a fresh context would).
std::vector<Report> take_reports();

}  // namespace fml_sim
