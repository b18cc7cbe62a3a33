/**
 * The exit statuses of `lmm`, in one place (`lmm --help` prints them).
 *
 * `lmm run` passes the program's own status through; the codes 3 and 4 are
 * used only when the program itself exited 0, so that a failing program is
 * never hidden behind a leak.
 *
 * @module
 */

/** Success. */
export const EXIT_OK = 0;
/** lmm itself failed: an output file could not be written, the library could not be loaded. */
export const EXIT_FAILURE = 1;
/** Usage error, or the report given is missing, unreadable, not a report or of another version. */
export const EXIT_USAGE = 2;
/** `run --fail-on-leak`: the program exited 0 and its report lists live blocks (unless `--leak-exit-code`). */
export const EXIT_LEAKS = 3;
/** `run`: the program exited 0 but wrote no readable report. */
export const EXIT_NO_REPORT = 4;
/** `run`: the command exists but cannot be executed. */
export const EXIT_NOT_EXECUTABLE = 126;
/** `run`: the command was not found. */
export const EXIT_NOT_FOUND = 127;
/** `run`: the program was killed by a signal: 128 + the signal's number. */
export const EXIT_SIGNAL_BASE = 128;

/** The exit status table for help texts. */
export const EXIT_HELP = `Exit status:
  0    success
  1    lmm failed (an output file could not be written, the library could not be loaded)
  2    usage error, or the report file is missing, unreadable, not a report or of another version
  3    run --fail-on-leak: the program exited 0 but left live blocks (leaks);
       --leak-exit-code N picks another code
  4    run: the program exited 0 but wrote no readable report
  126  run: the command could not be executed
  127  run: the command was not found
  N    run: the program's own non-zero status; 128+N when it was killed by signal N`;
