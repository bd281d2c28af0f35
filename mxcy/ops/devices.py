"""What computes each operator family on each device, as the markdown table README.md and
docs/architecture.md show (`python -m mxcy.ops --table` prints it). Each family module's way of computing
is declared here once; which ops a family holds, which have no GPU compute and which GPU computes still
copy to the host and back are read from the registry, so the table cannot drift from the code on those."""
from . import registry
from .frontend import PREFIXES

# Family module -> (CPU, GPU): what computes its ops. "Numba kernel" means mxcy's own kernels in
# mxcy/kernels (njit on the CPU, cuda.jit on a GPU).
FAMILIES = {
    "binary": ("NumPy ufuncs", "Numba CUDA kernels (element-wise, broadcasting)"),
    "unary": ("NumPy ufuncs (relu: the activation's Numba kernel)", "Numba CUDA kernels"),
    "reshape": ("NumPy", "Numba CUDA kernels (strided copy, cast)"),
    "index": ("NumPy", "Numba CUDA kernels (strided copy, gather, scatter); positions of non-basic keys "
                       "computed by NumPy on the host"),
    "init": ("NumPy", "Numba CUDA kernels (fill)"),
    "random": ("Numba kernels (Philox4x32-10)", "Numba CUDA kernels (Philox4x32-10)"),
    "sparse": ("SciPy and NumPy", "Numba CUDA kernels (to dense; CSR products a gather per output element, a "
                                  "transposed CSR's structure built on the host; row_sparse indices checked on the "
                                  "host)"),
    "sparse_storage": ("NumPy", "Numba CUDA kernels (cast_storage, round_ste, sign_ste: the unary ones; retain, "
                                "square_sum, getnnz: select, element-wise and reduction kernels; retain's indices "
                                "checked on the host)"),
    "reduce": ("NumPy", "Numba CUDA kernels"),
    "sort": ("NumPy", "Numba CUDA kernels (bitonic sort, gather, scatter)"),
    "matrix": ("NumPy's BLAS (matmul)", "Numba CUDA kernels (tiled GEMM)"),
    "shape": ("NumPy (mostly views)", "Numba CUDA kernels (strided copy)"),
    "join": ("NumPy", "Numba CUDA kernels (strided copy)"),
    "gather": ("NumPy", "Numba CUDA kernels; indices validated by NumPy on the host"),
    "nn_conv": ("Numba kernels around BLAS GEMMs (im2col or Winograd); FullyConnected: NumPy's BLAS",
                "Numba CUDA kernels (im2col + tiled GEMM)"),
    "nn_norm": ("Numba kernels", "Numba CUDA kernels"),
    "nn_pool": ("Numba kernels (Crop: a NumPy view)", "Numba CUDA kernels (Crop: strided copy)"),
    "nn_activation": ("Numba kernels", "Numba CUDA kernels"),
    "nn_loss": ("Numba kernels and NumPy", "Numba CUDA kernels"),
    "nn_ctc": ("Numba kernels", "Numba CUDA kernels"),
    "nn_contrib": ("BatchNorm's Numba kernels", "BatchNorm's Numba CUDA kernels"),
    "nn_deformable": ("Numba kernels (deformable im2col, col2im; GEMMs per image on a single-threaded BLAS)",
                      "Numba CUDA kernels (deformable im2col, col2im with atomic adds, tiled GEMM)"),
    "nn_spatial": ("Numba kernels", "Numba CUDA kernels (atomic adds in the backward passes)"),
    "optimizer_ops": ("Numba kernels", "Numba CUDA kernels (one launch per weight of a multi_* op); LAMB's "
                                       "norms and AdamW's rescale_grad read on the host"),
    "sequence": ("NumPy (rows planned on the host from the lengths)", "Numba CUDA kernels (row copy); rows planned on the host"),
    "rnn": ("Numba kernels (recurrence, gates fused per step, per-step GEMMs on a single-threaded BLAS per "
            "thread) around NumPy's BLAS for the all-steps GEMMs; valid lengths checked on the host",
            "Numba CUDA kernels (tiled GEMMs for the all-steps products; per step a state product and one fused "
            "gate kernel); valid lengths checked on the host"),
    "linalg": ("potrf, trsm, trmm and their gradients: OpenBLAS/LAPACKE calls per matrix in Numba threads; diagonal "
               "and triangle packers: Numba kernels; the rest: LAPACK through NumPy's linalg and SciPy (on the host)",
               "Numba CUDA kernels (a block per matrix for potrf, a thread per right-hand side for trsm, a thread per "
               "matrix for the LU, LQ and Jacobi eigen factorizations)"),
    "misc_ops": ("NumPy", "Numba CUDA kernels (element-wise, broadcast products, reductions; smooth_l1, "
                          "ravel/unravel and the finite checks: small kernels of their own); arange_like's values "
                          "built on the host"),
    "image": ("Numba kernels (to_tensor, normalize, flips, colour ops on uint8/float32/float64; resize's two-tap "
              "uint8 path); NumPy for float16 and for the other resize paths and crops; random factors drawn on "
              "the host from NumPy's Philox keyed by the op call",
              "Numba CUDA kernels (every resize path; colour ops on uint8/float16/float32/float64; random factors "
              "drawn on the host as on the CPU)"),
    "misc_tensor": ("NumPy; cumsum: Numba kernels (two-pass block scan)",
                    "Numba CUDA kernels (cumsum: block scan; histogram: atomic counts; index_copy, "
                    "fill_element_0index: row scatters, indices checked on the host; casts, fills, element-wise "
                    "tests)"),
    "misc_legacy": ("Convolution_v1, Pooling_v1, BatchNorm_v1: the current ops' Numba kernels (BatchNorm_v1's "
                    "variance output: NumPy); SVMOutput, IdentityAttachKLSparseReg: Numba kernels",
                    "Convolution_v1, Pooling_v1, BatchNorm_v1: the current ops' Numba CUDA kernels (BatchNorm_v1's "
                    "variance output: the element-wise ones); SVMOutput, IdentityAttachKLSparseReg: Numba CUDA kernels "
                    "(SVMOutput's labels checked on the host)"),
    "nn_im2col": ("Numba kernels (the convolution's im2col, col2im)",
                  "Numba CUDA kernels (one thread per column or image element, no atomics)"),
    "random_pdf": ("Numba kernels", "Numba CUDA kernels"),
    "contrib_box": ("Numba kernels", "Numba CUDA kernels (NMS and matching: rank-count sorts, then one block or "
                                     "thread per batch for the greedy passes)"),
    "contrib_misc": ("NumPy (the interleaved matmuls on NumPy's BLAS, NumPy's FFT); index_array, "
                     "AdaptiveAvgPooling2D, count_sketch, hawkesll: Numba kernels",
                     "interleaved matmuls: Numba CUDA kernels (tiled GEMM); index_array, AdaptiveAvgPooling2D, "
                     "count_sketch, hawkesll: Numba CUDA kernels (hawkesll's marks checked on the host); "
                     "fft, ifft: Numba CUDA kernels (direct sums); gradientmultiplier, the backward ops of "
                     "gradientmultiplier and quadratic: the element-wise CUDA kernels; backward_index_copy: the row "
                     "kernels (indices checked on the host)"),
    "contrib_multibox": ("Numba kernels (labels' padding scanned on the host)",
                         "Numba CUDA kernels (greedy passes one thread per batch, rank-count sorts; labels' padding "
                         "scanned on the host)"),
    "contrib_proposal": ("Numba kernels (base anchors computed on the host)",
                         "Numba CUDA kernels (rank-count sort, one block per image for the greedy NMS)"),
    "contrib_roi": ("Numba kernels", "Numba CUDA kernels (atomic adds in the backward passes)"),
    "contrib_dgl": ("NumPy on the host (NDArray-level computes on the CSR parts; sampling from NumPy's Philox)",
                    "none (CPU only, as in MXNet)"),
    "contrib_dynamic": ("positions found on the host (NumPy), rows gathered by take's Numba kernel",
                        "positions found on the host, rows gathered by take's CUDA kernel"),
    "subgraph": ("the subgraph's own operators, run through GraphPlan", "the subgraph's own operators, run through "
                 "GraphPlan"),
    "operator": ("the user's CustomOp (Python)", "the user's CustomOp (Python)"),
    "control_flow": ("the subgraphs' own operators, looped in Python on the host",
                     "the subgraphs' own operators, looped in Python on the host"),
}

_SHOWN_NAMES = 8  # names listed per family before "..."


def families():
    """{family: [OpDef, ...]} in registration order, keyed by the registering module's last name part."""
    out = {}
    for op in registry.all_ops():
        out.setdefault(op.module.rsplit(".", 1)[-1], []).append(op)
    return out


def _user_name(op):
    """The name users call (contrib.X for _contrib_X), or None for hidden ops."""
    for prefix, module in PREFIXES.items():
        if op.name.startswith(prefix):
            return f"{module}.{op.name[len(prefix):]}"
    return None if op.name.startswith("_") else op.name


def _on_host(compute):
    """Whether a GPU compute copies its arrays to the host and back (the via_host wrappers)."""
    return "via_host" in getattr(compute, "__qualname__", "")


def _names(ops):
    return ", ".join(f"`{op.name}`" for op in ops)


def markdown_table():
    """The table: one row per family, its user-visible ops, and what computes them on each device."""
    rows = ["| Family | Operators | CPU | GPU |", "| --- | --- | --- | --- |"]
    for family, ops in families().items():
        cpu, gpu = FAMILIES[family]
        names = list(dict.fromkeys(n for n in (_user_name(op) for op in ops) if n))  # _random_X, _sample_X: one
        shown = ", ".join(f"`{n}`" for n in names[:_SHOWN_NAMES])
        if len(names) > _SHOWN_NAMES:
            shown += f", ... ({len(names)} in all)"
        cpu_only = [op for op in ops if "gpu" not in op.compute]
        host = [op for op in ops if "gpu" in op.compute and _on_host(op.compute["gpu"])]
        if cpu_only and len(cpu_only) < len(ops):
            gpu += f"; CPU only: {_names(cpu_only)}"
        if host:
            gpu += f"; host round trip (NumPy): {_names(host)}"
        rows.append(f"| {family} | {shown or '(hidden ops)'} | {cpu} | {gpu} |")
    return "\n".join(rows)
