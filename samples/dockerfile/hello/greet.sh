#!/bin/sh
echo "hello from a Dockerfile, built by $(uname -s) in a runc container"
