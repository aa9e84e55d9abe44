//go:build tools

// Package tools pins arduino-cli's main package as a dependency of this module.
//
// arduino-cli's main.go imports github.com/arduino/arduino-cli/internal/...,
// which Go's internal-package rule forbids importing from any other module, so
// its main() cannot be copied here. Instead this module requires the pinned
// arduino-cli and builds the dependency's own main package:
//
//	go build github.com/arduino/arduino-cli
//
// (internal imports are legal there, because the importer is inside
// github.com/arduino/arduino-cli). This file only exists so that `go mod tidy`
// keeps every module that main package needs; the `tools` build tag keeps it
// out of normal builds (a main package cannot really be imported).
package tools

import _ "github.com/arduino/arduino-cli"
