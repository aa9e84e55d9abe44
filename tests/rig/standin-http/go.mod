module makerdeck.dev/rig/standin-http

go 1.21
