#!/bin/sh
# sslstudio's launcher on PATH. It finds the app relative to itself, so the same file works
# installed (/usr/bin -> /opt/sslstudio) and unpacked into any folder with dpkg -x.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../../opt/sslstudio/sslstudio" "$@"
