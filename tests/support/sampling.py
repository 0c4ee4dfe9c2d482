"""The Collector settings the test stacks run with (tests/e2e, tests/chaos)."""

# Decide 1 s after a trace's first span instead of the demo's 5 s. At the
# default 100 % baseline every trace is kept whatever the wait, so the wait
# only delays when a trace reaches the store; a span that comes after its
# trace's decision follows it through the decision cache. (At a lower
# baseline 1 s is too short: tests/sampling runs the 5 s default.)
TEST_COLLECTOR_ENV = {"SAMPLING_DECISION_WAIT": "1s"}
