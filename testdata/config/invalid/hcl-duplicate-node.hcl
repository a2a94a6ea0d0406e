cluster = "prod"
node "gfs1" {
  manage  = "10.0.0.1"
  zone    = 1
  devices = ["/dev/sdb"]
}
node "gfs2" {
  manage  = "10.0.0.2"
  zone    = 2
  devices = ["/dev/sdb"]
}
node "gfs3" {
  manage  = "10.0.0.3"
  zone    = 3
  devices = ["/dev/sdb"]
}
node "gfs1" {
  manage = "10.0.0.9"
}
