# Core unit tests and the simulator.
