cluster = "prod"
node "gfs1" {
  manage = "10.0.0.1"
  devices = ["/dev/sdb"]
  device "/dev/sdc" {}
}
