"""Images/s of a decode-heavy input pipeline: JPEG decode -> RandomResizedCrop 224 -> flip -> ToTensor ->
Normalize, batch 64, through each framework's DataLoader with 0 and 2 workers.

    python bench/data_pipeline.py                       # everything, side by side (mxcy, MXNet, PyTorch)
    python bench/data_pipeline.py LIB WORKERS IMAGE_DIR  # one run: LIB in mxcy|mxnet|torch|torch1

mxcy and MXNet run the same Gluon code (mx.image.imread, gluon.data.vision.transforms, gluon DataLoader).
torchvision is not installed, so the PyTorch side writes the same transforms with Pillow and torch ops
(crop box drawn as torchvision's RandomResizedCrop, bilinear resize of the box by Pillow, flip, ToTensor,
Normalize) inside a torch.utils.data.Dataset and DataLoader. Each process gets 2 threads ("torch1": PyTorch
with 1 intra-op thread in the main process, which its DataLoader workers use anyway; "mxcy1": mxcy on one
thread, its engine naive and Numba on one thread, so that its 0-worker loop is single-threaded as PyTorch's).
BENCH_IMAGES sets the number of images (default 512), BENCH_LIBS which libraries run (default all),
BENCH_ROUNDS how many times the whole set runs, interleaved (default 1; each result is the best round, for a
machine other jobs share).
"""
import os
import random
import subprocess
import sys
import tempfile
import time

BATCH = 64
IMAGES = int(os.environ.get("BENCH_IMAGES", 512))
EPOCHS = 2
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
PYTHONS = {"mxcy": os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".venv", "bin", "python"),
           "mxnet": "/tmp/mxnet-venv/bin/python", "torch": "/tmp/torch-venv/bin/python",
           "torch1": "/tmp/torch-venv/bin/python"}
PYTHONS["mxcy1"] = PYTHONS["mxcy"]
ONE_THREAD = {"mxcy1": {"MXNET_ENGINE_TYPE": "NaiveEngine", "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}
LIBS = tuple(os.environ.get("BENCH_LIBS", "mxcy,mxnet,torch,torch1,mxcy1").split(","))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 1))


def make_images(directory, count=IMAGES, seed=0):
    """`count` natural-looking JPEGs (smooth colour fields with texture), 300-500 pixels a side, quality 90."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    for i in range(count):
        h, w = (int(v) for v in rng.integers(300, 501, 2))
        coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
        pixels = np.asarray(coarse, np.int16) + rng.integers(-20, 21, (h, w, 3), dtype=np.int16)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(os.path.join(directory, f"{i:04d}.jpg"),
                                                                       quality=90)


def _files(directory):
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".jpg"))


class GluonImages:
    """(decoded HWC uint8 image, label) per JPEG; module level so that worker processes can unpickle it."""

    def __init__(self, lib, directory):
        self.lib, self.files = lib, _files(directory)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return __import__(self.lib).image.imread(self.files[i]), i % 10


def gluon_loader(lib, directory, workers):
    from_gluon = __import__(lib).gluon.data
    transforms = from_gluon.vision.transforms
    transform = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomFlipLeftRight(),
                                    transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    dataset = from_gluon.SimpleDataset(GluonImages(lib, directory)).transform_first(transform)
    return from_gluon.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                                 last_batch="discard")


def _torch_crop_box(width, height, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop box (left, top, right, bottom): 10 tries, then the centre crop."""
    import math
    area = width * height
    for _ in range(10):
        target = area * random.uniform(*scale)
        aspect = math.exp(random.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left, top = random.randint(0, width - w), random.randint(0, height - h)
            return left, top, left + w, top + h
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


class TorchImages:
    """torchvision-style pipeline written with Pillow and torch ops (torchvision is not installed here)."""

    def __init__(self, directory):
        self.files = _files(directory)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        import numpy as np
        import torch
        from PIL import Image
        img = Image.open(self.files[i]).convert("RGB")
        img = img.resize((224, 224), Image.BILINEAR, box=_torch_crop_box(*img.size))
        if random.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        tensor = torch.from_numpy(np.asarray(img)).permute(2, 0, 1).float().div(255)
        mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
        return (tensor - mean) / std, i % 10


def torch_loader(directory, workers, threads):
    import torch
    torch.set_num_threads(threads)
    return torch.utils.data.DataLoader(TorchImages(directory), batch_size=BATCH, shuffle=True,
                                       num_workers=workers, drop_last=True)


def images_per_second(lib, workers, directory):
    """(images/s, CPU ms per image of this process's threads) over EPOCHS epochs, timed from the first batch
    (worker start-up and the first batch's own work excluded). The CPU time counts only work done in this process,
    so it measures the pipeline's cost with 0 workers, where wall time suffers from whatever else shares the
    machine."""
    if lib.startswith("torch"):
        loader = torch_loader(directory, workers, 1 if lib == "torch1" else 2)
    else:
        lib = "mxcy" if lib == "mxcy1" else lib
        loader = gluon_loader(lib, directory, workers)
    count, start = 0, None
    for _ in range(EPOCHS):
        for data, _label in loader:
            if start is None:
                if not lib.startswith("torch"):
                    # The engines are asynchronous: the first batch's ops (and the kernels' first loads) finish
                    # here, before the clock starts, as PyTorch's did before it returned the batch.
                    __import__(lib).nd.waitall()
                start, cpu_start = time.perf_counter(), time.process_time()
                continue
            assert tuple(data.shape) == (BATCH, 3, 224, 224)
            count += data.shape[0]
    if not lib.startswith("torch"):
        __import__(lib).nd.waitall()
    return count / (time.perf_counter() - start), 1000 * (time.process_time() - cpu_start) / count


def main():
    env = dict(os.environ, OMP_NUM_THREADS="2", MXNET_CPU_WORKER_NTHREADS="2", MKL_NUM_THREADS="2",
               NUMBA_NUM_THREADS="2")
    env.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(PYTHONS["mxcy"]), "..", "..", ".numba_cache"))
    with tempfile.TemporaryDirectory() as directory:
        make_images(directory)
        print(f"{IMAGES} JPEGs, batch {BATCH}, {EPOCHS} epochs")
        results = {}
        for round_ in range(ROUNDS):
            print(f"round {round_ + 1}, load average {os.getloadavg()[0]:.1f}", flush=True)
            for workers in (0, 2):
                for lib in LIBS:
                    out = subprocess.run([PYTHONS[lib], os.path.abspath(__file__), lib, str(workers), directory],
                                         env=dict(env, **ONE_THREAD.get(lib, {})), capture_output=True, text=True,
                                         check=True)
                    rate, cpu_ms = (float(v) for v in out.stdout.split()[-2:])
                    results[lib, workers] = max(rate, results.get((lib, workers), 0))
                    print(f"{lib:6s} workers={workers}: {rate:8.1f} images/s, main process CPU {cpu_ms:6.1f} "
                          "ms/image", flush=True)
        print(f"best of {ROUNDS}:")
        for workers in (0, 2):
            ratios = (f"mxcy/{lib} {results['mxcy', workers] / results[lib, workers]:.2f}"
                      for lib in LIBS if lib not in ("mxcy", "mxcy1"))
            print(f"workers={workers}: " + ", ".join(ratios))
        for lib in LIBS:
            print(f"{lib}: 2 workers / 0 workers {results[lib, 2] / results[lib, 0]:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4:
        print(*images_per_second(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
    else:
        main()
