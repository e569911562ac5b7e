#!/bin/sh
# Runs every module the image holds.
for m in /opt/modules/*/run; do "$m"; done
