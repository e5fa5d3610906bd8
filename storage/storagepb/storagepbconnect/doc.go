// Package storagepbconnect holds the Connect clients and handlers of the storage cluster's
// services (ChunkService, MetaService, VolumeService), generated from ../storage.proto by
// protoc-gen-connect-go; see the storagepb package for how to regenerate.
package storagepbconnect
