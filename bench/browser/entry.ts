/** The browser bundle's entry (bench/vm-browser.ts): `tsbpfMeasureVm()` on the page. */
import { measureVm } from "./vm-measure.ts";

(globalThis as { tsbpfMeasureVm?: typeof measureVm }).tsbpfMeasureVm = measureVm;
