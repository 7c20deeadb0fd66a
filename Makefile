# skillstore: the two commands are `make demo` and `make test`.
# Both install missing Debian packages (deploy/install-deps.sh), configure and
# build with two jobs before doing their work.

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
# clang: the libFuzzer targets of the skill engine need it; the rest builds with either.
CXX_COMPILER ?= clang++
C_COMPILER   ?= clang
CTEST_ARGS ?=

.PHONY: all deps configure build test demo bench clean

all: build

deps:
	@bash deploy/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER=$(CXX_COMPILER) -DCMAKE_C_COMPILER=$(C_COMPILER)

configure: $(BUILD_DIR)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: build
	@bash examples/demo.sh $(BUILD_DIR)

bench: build
	@bash bench/compare.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
