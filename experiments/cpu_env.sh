# Sourced by the CPU experiment scripts: one thread per process (two processes share two
# cores), and, offline, MNIST's files beside the checkout, where CI finds them (otherwise
# csacgan searches its cache and downloads).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
if [ -z "${CSACGAN_DATA_DIR:-}" ] && [ -d ../shared/data/mnist ]; then
  export CSACGAN_DATA_DIR=$(cd ../shared/data/mnist && pwd)
fi
