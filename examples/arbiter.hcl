# Replica 3 with an arbiter: two full copies plus a metadata-only third brick,
# which prevents split-brain at a fraction of the disk.
cluster = "edge"

node "s1" {
  manage  = "s1.example.net"
  zone    = 1
  devices = ["/dev/vdb"]
}

node "s2" {
  manage  = "s2.example.net"
  zone    = 2
  devices = ["/dev/vdb"]
}

node "witness" {
  manage  = "w.example.net"
  zone    = 3
  devices = ["/dev/vdb"]
}

volume "vm-images" {
  size = "200GiB"
  durability {
    type    = "replicate"
    replica = 3
    arbiter = true
  }
  options = {
    "cluster.shd-max-threads" = 4
    "network.ping-timeout"    = 20
  }
}
