"""Stage 'sample': the grader's one sampling loop. The graded samples are drawn with it in the sampling child
(child/worker.py); the probes (child/probes.py) rerun it with moved codes, and the notebook's copy check imports
it, so that what the notebook checks is what is graded.

A fresh generator and torch's global seed are both set from the seed, then Latent.sample and Decoder run in the
grader's batches: a prior or decoder that draws noise of its own draws the same noise on every pass.
"""
import numpy as np
import torch

if __package__:
    from .stages import StageFailure, one_line
else:  # in the sampling child, where the grader's folder is on sys.path (child/worker.py)
    from stages import StageFailure, one_line


def batches(draw, decode, n: int, seed: int, batch: int, shifts: torch.Tensor | None = None):
    """Yield (z, decode(z)) batch by batch for n codes drawn by draw(b, generator=...) (Latent.sample) at seed.
    shifts ([k, dim], k a multiple of batch): only the first k codes are decoded, each moved by its shift, so the
    decoder sees the graded pass's batches."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # for decoders that draw noise of their own
    stop = n if shifts is None else len(shifts)
    for start in range(0, stop, batch):
        z = draw(min(batch, n - start), generator=generator)
        if shifts is not None:
            z = z[:stop - start]
            z = z + shifts[start:start + len(z)].to(z.device, z.dtype)
        yield z, decode(z)


@torch.no_grad()
def sample(latent, decoder, n: int, seed: int, batch: int) -> tuple[np.ndarray, torch.Tensor]:
    """The n samples (float32, as Decoder returned them) and the codes that drew them; StageFailure('sample', one
    line) when Latent.sample or Decoder fails or returns the wrong kind of thing."""
    def draw(b: int, generator: torch.Generator) -> torch.Tensor:
        try:
            z = latent.sample(b, generator=generator)
        except Exception as error:
            raise StageFailure("sample", f"Latent.sample({b}, generator=...) fails: {one_line(error)}") from None
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[0] != b:
            shape = list(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise StageFailure("sample", f"Latent.sample({b}) returned {shape}; it must return a tensor [{b}, dim].")
        return z

    def decode(z: torch.Tensor) -> torch.Tensor:
        try:
            x = decoder(z)
        except Exception as error:
            raise StageFailure("sample", f"Decoder fails on Latent.sample's codes: {one_line(error)}") from None
        if not isinstance(x, torch.Tensor):
            raise StageFailure("sample", f"Decoder returned a {type(x).__name__}; it must return a tensor "
                                         "[B, 1, 32, 32].")
        return x

    chunks, codes = [], []
    for z, x in batches(draw, decode, n, seed, batch):
        chunks.append(x.detach().float().cpu().numpy())
        codes.append(z.detach().cpu())
    try:
        return np.concatenate(chunks), torch.cat(codes)
    except ValueError:
        shapes = sorted({str(list(c.shape)) for c in chunks})
        raise StageFailure("sample", f"Decoder output shapes differ between batches: {', '.join(shapes)}.") from None
