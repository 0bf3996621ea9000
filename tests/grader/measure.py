"""Stage 'measure': the FID of the samples against the 1,000 held-out digits, in the verified Inception network's
pool features (instruments/: the weights, the network, the FID itself), with the FID against the training digits
and the KID beside it."""
from dataclasses import dataclass

import numpy as np

from .instruments.fid import features, frechet_distance, kernel_inception_distance
from .stages import StageFailure


@dataclass
class Measured:
    fid: float
    fid_train: float
    kid: float
    kid_std: float
    features: np.ndarray  # the samples' pool features, for the feedback beside the score


def check_measure(images: np.ndarray, tools, seed: int) -> Measured:
    """tools: the instruments (instruments/prepare.py). StageFailure('measure', why) when there is no trusted
    network. It is said only now, after the student's code has run: a student without the weights (offline,
    say) still learns whether the model loads, samples and passes the checks."""
    if tools.error:
        raise StageFailure("measure", tools.error)
    feats = features(tools.net, images, desc="sample features")
    kid, kid_std = kernel_inception_distance(feats, tools.reference_features, seed=seed)
    return Measured(frechet_distance(feats, tools.reference_features), frechet_distance(feats, tools.train_features),
                    kid, kid_std, feats)
