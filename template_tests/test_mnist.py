"""tests/grader/instruments/mnist.py, the copy check's MNIST, on its real path but offline: torchvision's own
download_url fetches small fake MNIST files over HTTP from a server on localhost (bound to this test, shut down by
it), checked against MD5s patched to the fakes'. What this cannot prove: the real mirrors and the real files
(torchvision's checksums are checked below, and the real files' layout is the IDX format the fakes use)."""
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from template_tests.standin_mnist import write_idx_images
from tests.grader.instruments import mnist
from tests.grader.instruments.mnist import IMAGE_FILES, MnistError, load_mnist

COUNTS = (6, 4)  # stands in for (60000, 10000): the same format, a few images


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror with fake training and test image files; the grader's cache in tmp_path."""
    rng = np.random.default_rng(0)
    served = tmp_path / "mirror"
    served.mkdir()
    images = {}
    for name, count in zip(IMAGE_FILES, COUNTS):
        images[name] = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        write_idx_images(images[name], served / name)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(served))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    requests = []
    real_download = mnist.download_url
    monkeypatch.setattr(mnist, "download_url", lambda u, *a: (requests.append(u), real_download(u, *a)))
    monkeypatch.setattr(mnist, "MD5", {n: hashlib.md5((served / n).read_bytes()).hexdigest() for n in IMAGE_FILES})
    monkeypatch.setattr(mnist.MNIST, "mirrors", [url])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("VAE_MNIST_DIR", raising=False)
    expected = np.pad(np.concatenate([images[n] for n in IMAGE_FILES]), ((0, 0), (2, 2), (2, 2)))
    yield dict(served=served, url=url, requests=requests, expected=expected, cache=mnist.cache_dir())
    server.shutdown()
    thread.join(timeout=10)


def test_downloads_once_then_reads_the_cache(mirror):
    found = load_mnist()
    assert found.official and found.label == "MNIST 10"
    assert np.array_equal(found.images, mirror["expected"])  # training then test digits, padded to 32 x 32
    assert len(mirror["requests"]) == 2
    assert sorted(p.name for p in mirror["cache"].iterdir()) == sorted(IMAGE_FILES)  # no .part left
    assert np.array_equal(load_mnist().images, found.images) and len(mirror["requests"]) == 2


def test_a_damaged_cache_file_is_downloaded_again(mirror):
    load_mnist()
    cached = mirror["cache"] / IMAGE_FILES[1]
    data = bytearray(cached.read_bytes())
    data[-1] ^= 1
    cached.write_bytes(bytes(data))
    assert np.array_equal(load_mnist().images, mirror["expected"])
    assert len(mirror["requests"]) == 3 and mirror["requests"][-1].endswith(IMAGE_FILES[1])


def test_no_network_and_a_damaged_file_is_one_line_that_says_what_to_do(mirror, monkeypatch):
    load_mnist()
    cached = mirror["cache"] / IMAGE_FILES[0]
    cached.write_bytes(cached.read_bytes()[:-5])
    monkeypatch.setattr(mnist.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens on port 9
    with pytest.raises(MnistError) as caught:
        load_mnist()
    message = str(caught.value)
    assert "\n" not in message and "damaged" in message and str(cached) in message and "by hand" in message


def test_a_tampered_download_is_refused_and_not_kept(mirror):
    write_idx_images(np.zeros((6, 28, 28), np.uint8), mirror["served"] / IMAGE_FILES[0])
    with pytest.raises(MnistError, match="is missing and the download failed"):
        load_mnist()
    assert not list(mirror["cache"].iterdir())  # neither the file nor a .part stays


def test_the_second_mirror_is_tried_when_the_first_fails(mirror, monkeypatch):
    monkeypatch.setattr(mnist.MNIST, "mirrors", ["http://127.0.0.1:9/", mirror["url"]])
    assert np.array_equal(load_mnist().images, mirror["expected"])


def test_an_explicit_folder_must_hold_mnist_unless_a_stand_in_is_allowed(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, count in zip(IMAGE_FILES, COUNTS):
        write_idx_images(np.full((count, 28, 28), 7, np.uint8), folder / name)
    monkeypatch.setenv("VAE_MNIST_DIR", str(folder))
    monkeypatch.delenv("VAE_ALLOW_UNOFFICIAL_MNIST", raising=False)
    with pytest.raises(MnistError, match="is not MNIST's file"):
        load_mnist()
    monkeypatch.setenv("VAE_ALLOW_UNOFFICIAL_MNIST", "1")
    found = load_mnist()
    assert not found.official and found.label == "MNIST 10 (UNOFFICIAL stand-in)" and found.images.shape == (10, 32, 32)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # never on a runner, where grades of record are made
    with pytest.raises(MnistError, match="is not MNIST's file"):
        load_mnist()
    (folder / IMAGE_FILES[0]).unlink()
    with pytest.raises(MnistError, match=f"VAE_MNIST_DIR is set to {folder}, but {IMAGE_FILES[0]} is not there"):
        load_mnist()


def test_a_file_that_is_not_idx_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_MNIST_DIR", str(tmp_path))
    monkeypatch.setenv("VAE_ALLOW_UNOFFICIAL_MNIST", "1")
    for name in IMAGE_FILES:
        (tmp_path / name).write_bytes(gzip.compress(b"not an idx file at all"))
    with pytest.raises(MnistError, match="is not an IDX file of 28x28 images"):
        load_mnist()


def test_torchvision_still_lists_the_files_and_checksums_we_rely_on():
    assert mnist.MD5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert mnist.MD5["t10k-images-idx3-ubyte.gz"] == "9fb629c4189551a2d022fa330f9573f3"
    assert mnist.MNIST.mirrors[0].startswith("https://")
