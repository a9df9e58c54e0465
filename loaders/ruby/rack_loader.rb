# Ruby loader: serves a Rack app over HTTP/1.1 on the Unix socket the core assigned.
#
# The core starts every Rack app as
#
#   ruby <repo>/loaders/ruby/rack_loader.rb <absolute rackup file>
#
# with PASSENGER_APP_SOCKET set, and the app folder as the working directory. The app is loaded
# first (Bundler when there is a Gemfile, then Rack::Builder on the rackup file); a load error
# prints its message and backtrace on stderr and exits 1, before the socket exists, so the core
# reports it. Then the socket is opened and requests are served one at a time (the pool sends a
# Ruby process one request at a time), over any number of kept-alive connections.
#
# Only Ruby's standard library and Debian's ruby-rack.

$stdout.sync = true
$stderr.sync = true

require 'socket'
require 'stringio'
require 'tempfile'

module PassengerRackLoader
  MAX_HEAD = 64 * 1024
  SPOOL_THRESHOLD = 1024 * 1024 # request bodies larger than this go to a temp file
  HOP_BY_HOP = %w[connection keep-alive transfer-encoding].freeze
  # nginx's passenger_base_uri: the app lives under this path, which becomes SCRIPT_NAME.
  BASE_URI = ENV.fetch('PASSENGER_BASE_URI', '').freeze

  class BadRequest < StandardError; end

  # Load errors: message, class and backtrace on stderr, exit 1.
  def self.load_app(rackup)
    if File.exist?('Gemfile')
      ENV['BUNDLE_GEMFILE'] ||= File.expand_path('Gemfile')
      require 'bundler/setup'
    end
    require 'rack'
    app = Rack::Builder.parse_file(rackup)
    app = app.first if app.is_a?(Array) # Rack 2 returns [app, options]
    raise "#{rackup} did not define an app (call `run APP` in it)" if app.nil?
    app
  rescue SystemExit, SignalException
    raise
  rescue Exception => e # rubocop:disable Lint/RescueException: SyntaxError and LoadError too
    report(e, "Error loading the Rack app #{rackup}")
    exit 1
  end

  def self.report(error, what)
    $stderr.puts "#{what}: #{error.message} (#{error.class})"
    (error.backtrace || []).each { |line| $stderr.puts "\t#{line}" }
  end

  # One kept-alive connection from the core, with what was read but not used yet.
  class Connection
    attr_reader :socket

    def initialize(socket)
      @socket = socket
      @buffer = String.new(capacity: 16 * 1024, encoding: Encoding::BINARY)
    end

    def buffered?
      !@buffer.empty?
    end

    # The bytes up to and including "\r\n\r\n", or nil when the peer closed before any byte.
    def read_head
      loop do
        index = @buffer.index("\r\n\r\n")
        return @buffer.slice!(0, index + 4) if index
        raise BadRequest, 'request head too large' if @buffer.bytesize > MAX_HEAD
        next if fill
        return nil if @buffer.empty?

        raise BadRequest, 'connection closed in the request head'
      end
    end

    def read_line
      loop do
        index = @buffer.index("\r\n")
        return @buffer.slice!(0, index + 2) if index
        raise BadRequest, 'line too long' if @buffer.bytesize > MAX_HEAD
        raise BadRequest, 'connection closed in the request body' unless fill
      end
    end

    # Copies exactly `length` body bytes into `sink`.
    def copy_exactly(length, sink)
      while length.positive?
        raise BadRequest, 'connection closed in the request body' if @buffer.empty? && !fill
        piece = @buffer.slice!(0, [length, @buffer.bytesize].min)
        sink.write(piece)
        length -= piece.bytesize
      end
    end

    private

    def fill
      @buffer << @socket.readpartial(256 * 1024)
      true
    rescue EOFError, Errno::ECONNRESET
      false
    end
  end

  class Server
    def initialize(app, socket_path)
      @app = app
      @listener = UNIXServer.new(socket_path)
      @connections = []
    end

    def run
      loop do
        ready = @connections.select(&:buffered?)
        if ready.empty?
          readable, = IO.select([@listener] + @connections.map(&:socket))
          ready = @connections.select { |c| readable.include?(c.socket) }
          accept if readable.include?(@listener)
        end
        ready.each do |connection|
          next if serve(connection)

          @connections.delete(connection)
          connection.socket.close unless connection.socket.closed?
        end
      end
    end

    private

    def accept
      @connections << Connection.new(@listener.accept_nonblock)
    rescue IO::WaitReadable, Errno::EINTR, Errno::ECONNABORTED
      nil
    end

    # Serves one request; returns whether the connection stays open.
    def serve(connection)
      head = connection.read_head
      return false if head.nil?

      request = parse_head(head)
      input = read_body(connection, request)
      keep_alive = request[:keep_alive]
      status, headers, body = call_app(env_for(request, input))
      return respond_error(connection.socket, keep_alive) if status.nil?

      write_response(connection.socket, request, status, headers, body) && keep_alive
    rescue BadRequest => e
      $stderr.puts "Bad request from the core: #{e.message}"
      write_simple(connection.socket, 400, 'Bad Request', false)
      false
    rescue Errno::EPIPE, Errno::ECONNRESET, IOError
      false
    ensure
      input.close if input.respond_to?(:close) && !input.is_a?(StringIO)
    end

    def parse_head(head)
      lines = head.split("\r\n")
      method, target, version = lines.shift.to_s.split(' ', 3)
      raise BadRequest, 'malformed request line' unless version&.match?(%r{\AHTTP/1\.[01]\z})

      headers = []
      lines.each do |line|
        name, value = line.split(':', 2)
        raise BadRequest, 'malformed header line' if value.nil? || name.empty? || name =~ /\s/

        headers << [name, value.strip]
      end
      find = ->(key) { headers.select { |n, _| n.casecmp?(key) }.map(&:last) }
      connection = find.call('connection').join(',').downcase
      keep_alive = version == 'HTTP/1.1' ? !connection.include?('close') : connection.include?('keep-alive')
      { method: method, target: target, version: version, headers: headers, find: find,
        keep_alive: keep_alive }
    end

    def read_body(connection, request)
      find = request[:find]
      chunked = find.call('transfer-encoding').join(',').downcase.include?('chunked')
      lengths = find.call('content-length')
      return nil if !chunked && lengths.empty?

      input = StringIO.new(String.new(encoding: Encoding::BINARY))
      sink = lambda do |length|
        if input.is_a?(StringIO) && input.size + length > SPOOL_THRESHOLD
          spooled = Tempfile.new('passenger-rack-input')
          spooled.unlink
          spooled.binmode
          spooled.write(input.string)
          input = spooled
        end
        input
      end
      if chunked
        loop do
          size_line = connection.read_line
          size = Integer(size_line.split(';', 2).first.strip, 16)
          if size.zero?
            nil until connection.read_line == "\r\n" # trailers
            break
          end
          connection.copy_exactly(size, sink.call(size))
          raise BadRequest, 'malformed chunk' unless connection.read_line == "\r\n"
        end
      else
        length = Integer(lengths.first, 10)
        connection.copy_exactly(length, sink.call(length))
      end
      input.rewind
      input
    rescue ArgumentError
      raise BadRequest, 'malformed body framing'
    end

    # [SCRIPT_NAME, PATH_INFO]: a path under the base URI is split there (Rack's rule).
    def split_base_uri(path)
      return ['', path] if BASE_URI.empty?
      return [BASE_URI, path[BASE_URI.length..]] if path == BASE_URI || path.start_with?("#{BASE_URI}/")
      ['', path]
    end

    def env_for(request, input)
      target = request[:target]
      target = target.sub(%r{\Ahttps?://[^/]*}i, '') if target =~ %r{\Ahttps?://}i
      target = '/' if target.empty?
      path, query = target.split('?', 2)
      script_name, path = split_base_uri(path)
      find = request[:find]
      scheme = find.call('x-forwarded-proto').last.to_s.casecmp?('https') ? 'https' : 'http'
      server_name, server_port = split_host(find.call('host').first, scheme)
      remote = find.call('x-forwarded-for').last.to_s.split(',').last.to_s.strip
      input ||= StringIO.new(String.new(encoding: Encoding::BINARY))
      env = {
        'REQUEST_METHOD' => request[:method],
        'SCRIPT_NAME' => script_name,
        'PATH_INFO' => path,
        'QUERY_STRING' => query || '',
        'REQUEST_URI' => target,
        'SERVER_NAME' => server_name,
        'SERVER_PORT' => server_port,
        'SERVER_PROTOCOL' => request[:version],
        'SERVER_SOFTWARE' => 'Passenger (C++)',
        'REMOTE_ADDR' => remote.empty? ? '127.0.0.1' : remote,
        'rack.version' => defined?(Rack::VERSION) ? Rack::VERSION : [1, 3],
        'rack.url_scheme' => scheme,
        'rack.input' => input,
        'rack.errors' => $stderr,
        'rack.multithread' => false,
        'rack.multiprocess' => true,
        'rack.run_once' => false,
        'rack.hijack?' => false
      }
      env['HTTPS'] = 'on' if scheme == 'https'
      request[:headers].each do |name, value|
        next if name.include?('_') # would be confused with a dash after the rename
        key = name.upcase.tr('-', '_')
        case key
        when 'CONTENT_TYPE' then env['CONTENT_TYPE'] = value
        when 'CONTENT_LENGTH', 'TRANSFER_ENCODING' then next
        else
          key = "HTTP_#{key}"
          env[key] = env.key?(key) ? "#{env[key]}#{key == 'HTTP_COOKIE' ? '; ' : ', '}#{value}" : value
        end
      end
      env['CONTENT_LENGTH'] = input.size.to_s if input.size.positive? || request[:find].call('content-length').any?
      env
    end

    def split_host(host, scheme)
      default_port = scheme == 'https' ? '443' : '80'
      return ['localhost', default_port] if host.nil? || host.empty?

      if (match = /\A(\[[^\]]*\])(?::(\d+))?\z/.match(host))
        return [match[1], match[2] || default_port]
      end

      name, port = host.split(':', 2)
      [name, port.nil? || port.empty? ? default_port : port]
    end

    def call_app(env)
      @app.call(env)
    rescue SystemExit, SignalException
      raise
    rescue Exception => e # rubocop:disable Lint/RescueException
      PassengerRackLoader.report(e, "Error in the Rack app for #{env['REQUEST_METHOD']} #{env['REQUEST_URI']}")
      nil
    end

    def respond_error(socket, keep_alive)
      write_simple(socket, 500, "Internal Server Error\n", keep_alive) && keep_alive
    end

    def write_simple(socket, status, text, keep_alive)
      socket.write("HTTP/1.1 #{status} #{reason(status)}\r\nContent-Type: text/plain\r\n" \
                   "Content-Length: #{text.bytesize}\r\n#{keep_alive ? '' : "Connection: close\r\n"}\r\n#{text}")
      true
    rescue Errno::EPIPE, Errno::ECONNRESET, IOError
      false
    end

    def reason(status)
      (defined?(Rack::Utils::HTTP_STATUS_CODES) && Rack::Utils::HTTP_STATUS_CODES[status]) || 'Unknown'
    end

    # Writes the head and the body (streamed: each part is sent as the body yields it) and
    # always closes the body. Returns false when the connection cannot be reused.
    def write_response(socket, request, status, headers, body)
      status = status.to_i
      no_body = request[:method] == 'HEAD' || status < 200 || status == 204 || status == 304
      head = +"HTTP/1.1 #{status} #{reason(status)}\r\n"
      length = nil
      app_chunked = false
      headers.each do |name, values|
        name = name.to_s
        next if name.start_with?('rack.')

        lowered = name.downcase
        list = values.is_a?(Array) ? values.map(&:to_s) : values.to_s.split("\n")
        if lowered == 'content-length'
          length = list.first
        elsif lowered == 'transfer-encoding'
          app_chunked = list.join(',').downcase.include?('chunked')
          next
        elsif HOP_BY_HOP.include?(lowered)
          next
        end
        list.each { |value| head << "#{name}: #{value}\r\n" }
      end
      if no_body
        if request[:method] == 'HEAD' && length.nil? && !app_chunked && body.respond_to?(:to_ary)
          head << "Content-Length: #{body.to_ary.sum { |part| part.to_s.bytesize }}\r\n" # as GET would
        end
        head << "Connection: close\r\n" unless request[:keep_alive]
        socket.write(head << "\r\n")
        return true
      end
      if length.nil? && !app_chunked && body.respond_to?(:to_ary)
        parts = body.to_ary.map(&:to_s)
        head << "Content-Length: #{parts.sum(&:bytesize)}\r\n"
        head << "Connection: close\r\n" unless request[:keep_alive]
        socket.write(head << "\r\n", *parts)
        return true
      end
      framing = if length || app_chunked then :raw
                elsif request[:version] == 'HTTP/1.1' then :chunked
                else :close
                end
      head << "Transfer-Encoding: chunked\r\n" if framing == :chunked || app_chunked
      head << "Connection: close\r\n" if !request[:keep_alive] || framing == :close
      socket.write(head << "\r\n")
      write_part = lambda do |part|
        part = part.to_s
        next if part.empty?

        socket.write(framing == :chunked ? "#{part.bytesize.to_s(16)}\r\n#{part}\r\n" : part)
      end
      if body.respond_to?(:each)
        body.each(&write_part)
      elsif body.respond_to?(:call)
        body.call(StreamingBody.new(write_part))
      end
      socket.write("0\r\n\r\n") if framing == :chunked
      framing != :close
    rescue SystemExit, SignalException
      raise
    rescue Errno::EPIPE, Errno::ECONNRESET, IOError
      false
    rescue Exception => e # rubocop:disable Lint/RescueException: the head is out; drop the connection
      PassengerRackLoader.report(e, "Error in the Rack app's response body for #{request[:method]} #{request[:target]}")
      false
    ensure
      body.close if body.respond_to?(:close)
    end
  end

  # The stream a Rack 3 streaming body (`body.call(stream)`) writes to.
  class StreamingBody
    def initialize(write_part)
      @write_part = write_part
    end

    def write(data)
      @write_part.call(data)
      data.to_s.bytesize
    end

    def <<(data)
      write(data)
      self
    end

    def flush; end

    def close; end

    def closed?
      false
    end
  end

  def self.main(argv)
    rackup = argv.fetch(0) { abort 'usage: rack_loader.rb RACKUP_FILE (with PASSENGER_APP_SOCKET set)' }
    socket_path = ENV.fetch('PASSENGER_APP_SOCKET') { abort 'PASSENGER_APP_SOCKET is not set' }
    app = load_app(rackup)
    File.unlink(socket_path) if File.socket?(socket_path)
    Server.new(app, socket_path).run
  end
end

PassengerRackLoader.main(ARGV) if $PROGRAM_NAME == __FILE__
