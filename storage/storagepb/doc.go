// Package storagepb holds the protobuf messages and Connect services of the storage
// cluster (chunk servers, metadata service, volume administration), generated from
// storage.proto. Regenerate with `go generate ./storage/storagepb` (or `make generate`); the
// tools are pinned by version below and in buf.gen.yaml.
package storagepb

//go:generate go run github.com/bufbuild/buf/cmd/buf@v1.57.2 generate
