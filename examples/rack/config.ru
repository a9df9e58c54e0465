# A Rack example: plain Rack (Debian's ruby-rack), no other gems. Run it with
#   ../../bin/passenger start        (in this folder; config.ru makes it a Rack app)
# Each Ruby process serves one request at a time; Passenger starts more as needed.
require 'json'

STARTED_AT = Time.now
requests = 0

# A body that streams a line per second, and is told when the response is over.
class Ticker
  def each
    5.times do |i|
      sleep 1 if i.positive?
      yield "tick #{i + 1} of 5 from process #{Process.pid}\n"
    end
  end

  def close
    puts "ticker closed (process #{Process.pid})"
  end
end

page = lambda do |count|
  <<~HTML
    <!DOCTYPE html>
    <html>
    <head><title>Hello from Rack on Passenger</title></head>
    <body>
      <h1>Hello from Rack on Passenger</h1>
      <p>Process <strong>#{Process.pid}</strong>, request #{count} in this process, Ruby #{RUBY_VERSION},
         Rack #{Rack.release}, up since #{STARTED_AT.utc}.</p>
      <ul>
        <li><a href="/env">/env</a>: the Rack env of this request (JSON)</li>
        <li><a href="/stream">/stream</a>: streams a line per second for five seconds</li>
        <li><form method="post" action="/echo"><input name="text" value="hello"> <button>POST /echo</button></form></li>
      </ul>
    </body>
    </html>
  HTML
end

use Rack::ContentLength
run(lambda do |env|
  requests += 1
  case env['PATH_INFO']
  when '/'
    [200, { 'Content-Type' => 'text/html; charset=utf-8' }, [page.call(requests)]]
  when '/env'
    visible = env.select { |_, value| value.is_a?(String) }
    [200, { 'Content-Type' => 'application/json' }, [JSON.pretty_generate(visible)]]
  when '/stream'
    [200, { 'Content-Type' => 'text/plain' }, Ticker.new]
  when '/echo'
    [200, { 'Content-Type' => 'text/plain' }, [env['rack.input'].read]]
  else
    [404, { 'Content-Type' => 'text/plain' }, ["Not found\n"]]
  end
end)
