"""The managers' charts: typed chart jobs, matplotlib figures drawn in a worker process, fonts."""
