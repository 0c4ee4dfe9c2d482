"""`make kube-check`: the Helm chart on the real single-node cluster of ../shared/kube."""
