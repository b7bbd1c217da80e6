# Sourced by the experiments/gpu_*.sh scripts on the GPU machine: the output folder,
# the project installed, the GPU's name, and the MNIST copy carried as .mnist.
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
python3 -m pip install -q -e . 2>&1 | tail -1
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
export CSACGAN_DATA_DIR=${CSACGAN_DATA_DIR:-$PWD/.mnist}
