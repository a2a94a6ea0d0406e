# Directory bricks on filesystems that are already mounted (no raw disks, no LVM):
# brickyard creates one subdirectory per brick under the declared paths.
cluster = "small"

ssh {
  user        = "admin"
  sudo        = true
  known_hosts = "accept-new"
}

node "d1" {
  manage = "172.16.5.1"
  zone   = 1
  path "/srv/bricks/a" {}
  path "/srv/bricks/b" {
    tags = { tier = "fast" }
  }
}

node "d2" {
  manage = "172.16.5.2"
  zone   = 2
  paths  = ["/srv/bricks/a", { path = "/srv/bricks/b", tags = { tier = "fast" } }]
}

node "d3" {
  manage = "172.16.5.3"
  zone   = 3
  path "/srv/bricks/a" {}
  path "/srv/bricks/b" {
    tags = { tier = "fast" }
  }
}

volume "shared" {
  size       = "50GiB"
  brick_kind = "directory"
}

volume "fast" {
  size        = "10GiB"
  device_tags = { tier = "fast" }
  durability  = { type = "replicate", replica = 3 }
  state       = "present"
}
