#!/bin/sh
# Starts a child, writes both process ids to the file given, and hangs.
sleep 60 &
echo $$ $! >"$1.tmp" && mv "$1.tmp" "$1"
sleep 60
