# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: how the sanitizers report.
#   ASan: every error is fatal, and leaks are checked at exit (LSan), less what system libraries
#         keep on purpose (.ci/lsan.supp), without listing those (it would add lines to the
#         one-line error messages the CLI tests check).
#   UBSan: built with -fno-sanitize-recover, so the first report is fatal; print where it was.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$root/.ci/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
