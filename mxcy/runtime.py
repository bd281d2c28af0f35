"""mx.runtime: which features this build has, as MXNet 1.x reports them (Features, feature_list)."""
import collections

__all__ = ["Feature", "Features", "feature_list"]

Feature = collections.namedtuple("Feature", ["name", "enabled"])


def _cuda_available():
    from .context import num_gpus
    return num_gpus() > 0


def _scipy_blas():
    try:
        import scipy.linalg.cython_blas  # noqa: F401
        return True
    except ImportError:
        return False


def feature_list():
    """Every feature MXNet 1.9.1 reports, enabled where this build really has it."""
    enabled = {
        "CPU_KERNELS_NUMBA": True, "CUDA": _cuda_available(), "BLAS_OPEN": _scipy_blas(),
        "SIGNAL_HANDLER": False, "INT64_TENSOR_SIZE": True, "OPENMP": False, "THREADED_ENGINE": True,
    }
    names = ["CUDA", "CUDNN", "NCCL", "CUDA_RTC", "TENSORRT", "CPU_SSE", "CPU_SSE2", "CPU_SSE3",
             "CPU_SSE4_1", "CPU_SSE4_2", "CPU_SSE4A", "CPU_AVX", "CPU_AVX2", "OPENMP", "SSE", "F16C",
             "JEMALLOC", "BLAS_OPEN", "BLAS_ATLAS", "BLAS_MKL", "BLAS_APPLE", "LAPACK", "MKLDNN",
             "OPENCV", "CAFFE", "PROFILER", "DIST_KVSTORE", "CXX14", "INT64_TENSOR_SIZE",
             "SIGNAL_HANDLER", "DEBUG", "TVM_OP", "CPU_KERNELS_NUMBA", "THREADED_ENGINE"]
    return [Feature(n, enabled.get(n, False)) for n in names]


class Features(collections.OrderedDict):
    """Mapping of feature name -> Feature; `is_enabled(name)` checks one. One instance, as MXNet's."""
    instance = None

    def __new__(cls):
        if cls.instance is None:
            cls.instance = super().__new__(cls)
            collections.OrderedDict.__init__(cls.instance, ((f.name, f) for f in feature_list()))
        return cls.instance

    def __init__(self):  # filled once, in __new__
        pass

    def __repr__(self):
        return str(list(self.values()))

    def is_enabled(self, feature_name):
        name = feature_name.upper()
        if name not in self:
            raise RuntimeError(f"Feature '{feature_name}' is unknown, known features are: "
                               f"{list(self.keys())}")
        return self[name].enabled
