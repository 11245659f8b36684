// CUDA-only tests: run when a GPU is usable; otherwise skipped with the reason printed, and failed
// when REQUIRE_CUDA=1 (so a broken CUDA load on a GPU runner cannot pass silently).
import { deviceInfo } from '../../dist/index.js';

const info = deviceInfo();
export const cudaAvailable = info.cuda.available;
export const cudaReason = info.cuda.error;
const required = process.env.REQUIRE_CUDA === '1';
let announced = false;

/** Registers `fn` on the uvu suite/test `t` as a CUDA test. */
export function cudaTest(t, name, fn) {
  if (cudaAvailable) return t(name, fn);
  if (required)
    return t(name, () => {
      throw new Error(`REQUIRE_CUDA=1 but CUDA is not available: ${cudaReason}`);
    });
  if (!announced) {
    announced = true;
    console.log(`skipping CUDA tests: ${cudaReason}`);
  }
  return t.skip(name, fn);
}
