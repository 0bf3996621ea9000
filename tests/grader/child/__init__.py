"""Running the student's code: a child process with a time limit, as a sandbox user of its own where the machine
allows (run.py, sandbox.py). worker.py is the child of stages 'load' and 'sample' (with probes.py and
inversion.py, which ask the decoder for stages 'generated' and 'learned-from'); sampling.py is the parent's side.
part_checks.py is the part checks' child; parts.py starts it. The child-side scripts import each other, and the
stage modules one folder up, by plain name: the child puts both folders on sys.path."""
