"""Build mxcy's one compiled piece, the Cython dependency engine (C++ threads, no CUDA toolkit)."""
from Cython.Build import cythonize
from setuptools import Extension, setup

engine = Extension(
    "mxcy._engine",
    sources=["mxcy/_engine.pyx"],
    include_dirs=["mxcy"],
    language="c++",
    extra_compile_args=["-O3", "-std=c++17"],
    extra_link_args=["-pthread"],
)

setup(ext_modules=cythonize([engine], language_level=3))
