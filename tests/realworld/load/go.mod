module reef.test/realworld/load

go 1.24
