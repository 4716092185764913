#!/bin/sh
# Writes the check's environment to the file given.
printf '%s\n' "$LVSADM_ADDRESS" "$LVSADM_PORT" "$LVSADM_VIP" "$LVSADM_VPORT" >"$1"
