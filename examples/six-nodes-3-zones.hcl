# Six nodes in three failure zones (two racks each); a distributed-replicate volume
# larger than one brick, so it gets several replica-3 sets, each spread over 3 zones.
cluster = "prod"

ssh {
  user            = "ops"
  sudo            = true
  port            = 2222
  connect_timeout = 20
  options         = ["ServerAliveInterval=15"]
}

placement {
  zone_checking  = "strict"
  brick_min_size = "10GiB"
  brick_max_size = "2TiB"
}

node "a1" {
  manage  = "10.1.1.11"
  storage = "10.2.1.11"
  zone    = 1
  devices = ["/dev/sdb", "/dev/sdc"]
}

node "a2" {
  manage  = "10.1.1.12"
  storage = "10.2.1.12"
  zone    = 1
  devices = ["/dev/sdb", "/dev/sdc"]
}

node "b1" {
  manage  = "10.1.2.11"
  storage = "10.2.2.11"
  zone    = 2
  devices = ["/dev/sdb", "/dev/sdc"]
}

node "b2" {
  manage  = "10.1.2.12"
  storage = "10.2.2.12"
  zone    = 2
  devices = ["/dev/sdb", "/dev/sdc"]
}

node "c1" {
  manage  = "10.1.3.11"
  storage = "10.2.3.11"
  zone    = 3
  devices = ["/dev/sdb", "/dev/sdc"]
}

node "c2" {
  manage  = "10.1.3.12"
  storage = "10.2.3.12"
  zone    = 3

  device "/dev/sdb" {}
  device "/dev/sdc" {
    tags = { media = "ssd" }
    wipe = true
  }

  ssh {
    port = 22
    user = "root"
    sudo = false
  }
}

volume "data" {
  size            = "6TiB"
  durability      = { type = "replicate", replica = 3 }
  snapshot_factor = 1.5
  protect         = true
  options = {
    "performance.cache-size" = "512MB"
    "cluster.min-free-disk"  = "10%"
  }
}

volume "scratch" {
  size       = "500GB"
  durability = { type = "none" }
  brick_kind = "lvm"
}
