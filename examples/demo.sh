#!/usr/bin/env bash
echo "make demo: the demo arrives with the worker (issue 4)."
