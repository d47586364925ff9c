console.log('benchmarks: see bench/README.md');
