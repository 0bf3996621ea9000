"""Which part of your VAE is missing or wrong: python -m unittest tests/parts_test.py (tests/run_test.py runs it too).

Each test builds fresh modules from your model.py (no training needed) and checks one piece: the encoder's and
decoder's shapes, the latent code, the reparameterisation's mean and variance, gradients reaching mu and log
sigma^2, the prior's sampling, and vae_loss against numbers worked out by hand. They carry no points (your score
is 100 - FID), but a failing part usually means a poor or failed grade.
"""
import unittest

from tests.grader.child.parts import check_parts

__unittest = True  # a failure shows its one-line reason, not this file's traceback


class PartsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.parts = {part.name: part for part in check_parts()}

    def check(self, name):
        part = self.parts[name]
        if not part.ok:
            self.fail(f"{name}: {part.message}")

    def test_1_encoder(self):
        self.check("encoder")

    def test_2_latent(self):
        self.check("latent")

    def test_3_reparameterisation(self):
        self.check("reparameterisation")

    def test_4_gradients(self):
        self.check("gradients")

    def test_5_prior(self):
        self.check("prior")

    def test_6_decoder(self):
        self.check("decoder")

    def test_7_loss(self):
        self.check("loss")


if __name__ == "__main__":
    unittest.main()
