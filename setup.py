"""Packages the top-level resources/ folder (demo data, icons) as `sslstudio.bundled` inside the wheel.

Everything else lives in pyproject.toml; pyproject alone cannot map a folder outside the
package tree into it, and a pip-installed workbench needs its demo data on first run.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["sslstudio*"]) + ["sslstudio.bundled"],
    package_dir={"sslstudio.bundled": "resources"},
    package_data={"sslstudio.bundled": ["**/*"]},
    exclude_package_data={"sslstudio.bundled": ["demo/make_demo_data.py"]},
)
