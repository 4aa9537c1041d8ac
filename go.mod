// The Magefile's module (mage builds Magefile.go from here). tests/e2e is a module of its own.
module datadriven-maturity/magefile

go 1.25.0

require github.com/magefile/mage v1.17.2

// Not Go: keeps `./...` and `go mod tidy` out of node_modules, cargo's target and the e2e module.
ignore (
	./dist
	./frontend
	./target
	./tests
)
