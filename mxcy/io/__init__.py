"""mx.io: data iterators (MXNet 1.9.1's python/mxnet/io)."""
from . import io, utils  # noqa: F401
from .io import DataBatch, DataDesc, DataIter, PrefetchingIter, ResizeIter  # noqa: F401
from .ndarray_iter import NDArrayIter  # noqa: F401
from .native import CSVIter, MNISTIter, MXDataIter  # noqa: F401
from .libsvm import LibSVMIter  # noqa: F401
from .image_record import (ImageRecordIter, ImageRecordUInt8Iter, ImageRecordInt8Iter,  # noqa: F401
                           ImageRecordIter_v1, ImageRecordUInt8Iter_v1)
from .image_det_record import ImageDetRecordIter  # noqa: F401
from .utils import _getdata_by_idx, _has_instance, _init_data  # noqa: F401
