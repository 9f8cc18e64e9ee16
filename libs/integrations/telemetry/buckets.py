"""Histogram bucket boundaries the services share."""

# Seconds; fine-grained below 50 ms, where a healthy acks=all publish (and so an ingress
# delivery) lands.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
