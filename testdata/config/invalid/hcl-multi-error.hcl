cluster = "prod cluster"
nodez "x" {}
node "gfs1" {
  manage  = "10.0.0.1"
  zone    = "1"
  devices = ["/dev/sdb", "/dev/sdb"]
}
node "gfs2" {
  manage = "10.0.0.1"
}
volume "volume" {
  size            = "10 parsecs"
  snapshot_factor = 101
  durability {
    type    = "replicate"
    replica = 5
  }
  state = "gone"
}
