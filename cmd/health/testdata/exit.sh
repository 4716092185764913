#!/bin/sh
# Exits with the status given.
exit "$1"
