# The classic Heketi lab: three nodes, one raw disk each, one replica-3 volume.
cluster = "classic"

ssh {
  user          = "root"
  identity_file = "~/.ssh/id_ed25519"
  known_hosts   = "strict"
}

node "gfs1" {
  manage  = "gfs1"
  storage = "192.168.0.224"
  zone    = 1
  devices = ["/dev/sdb"]
}

node "gfs2" {
  manage  = "gfs2"
  storage = "192.168.0.204"
  zone    = 2
  devices = ["/dev/sdb"]
}

node "gfs3" {
  manage  = "gfs3"
  storage = "192.168.0.173"
  zone    = 3
  device "/dev/sdb" {}
}

volume "gfs" {
  size = "8GiB"
  durability {
    type    = "replicate"
    replica = 3
  }
  options = {
    "performance.cache-size" = "256MB"
    "nfs.disable"            = true
  }
}
