#!/bin/sh
# Dies of SIGKILL.
kill -9 $$
