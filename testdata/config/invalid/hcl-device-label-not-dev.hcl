cluster = "prod"
node "gfs1" {
  manage = "10.0.0.1"
  device "/home/disk.img" {
    wipe = "yes"
  }
}
