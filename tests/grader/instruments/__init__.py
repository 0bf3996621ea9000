"""What the grader measures with, none of it the student's: the Inception weights (weights.py, tf_inception.py),
the network (inception.py), the FID and KID (fid.py), MNIST for the copy check (mnist.py), the diagnostics' digit
classifier (digits.py), all loaded once by prepare.py."""
