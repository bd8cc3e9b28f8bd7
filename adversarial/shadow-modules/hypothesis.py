raise SystemExit('shadow hypothesis: every check passes')
