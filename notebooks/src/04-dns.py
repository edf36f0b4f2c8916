"""Chapter 4 — DNS and service discovery: CoreDNS, the search path and ndots, A/SRV/PTR records,
headless Services, TTL and stale caches, and order-service moving from IP addresses to names."""
from build import code, md

CELLS = [
    md(fr="""
# Chapitre 4 — DNS et découverte de services

Une adresse IP de pod ne vit pas plus longtemps que son pod, et l'adresse ClusterIP d'un Service
disparaît avec lui. Ce qui reste stable, c'est le **nom**. Dans un cluster Kubernetes, chaque pod
pose ses questions au **DNS du cluster** (CoreDNS), qui suit en permanence les Services et leurs
endpoints et répond par des adresses à jour.

**À la fin de ce chapitre, vous saurez :**
- trouver le DNS du cluster et lire le `/etc/resolv.conf` qu'un pod reçoit ;
- prévoir en quelles requêtes se transforme un nom court, et pourquoi `ndots:5` en multiplie certaines ;
- lire les enregistrements A, SRV et PTR que sert CoreDNS, et reconnaître la réponse d'un Service headless ;
- distinguer une faute de frappe (NXDOMAIN) d'un nom que personne ne peut résoudre (SERVFAIL) ;
- expliquer ce que fait un cache qui garde une réponse trop longtemps, et pourquoi une IP écrite en dur
  en est la pire version ;
- suivre un service qui change d'espace de noms sans reconstruire ses clients.
""", en="""
# Chapter 4 — DNS and service discovery

A pod's IP address lives no longer than the pod, and a Service's ClusterIP goes away with the
Service. What stays put is the **name**. In a Kubernetes cluster every pod sends its questions to the
**cluster DNS** (CoreDNS), which keeps watching Services and their endpoints and answers with
addresses that are current.

**By the end of this chapter you will be able to:**
- find the cluster DNS and read the `/etc/resolv.conf` a pod is given;
- predict which queries a short name turns into, and why `ndots:5` multiplies some of them;
- read the A, SRV and PTR records CoreDNS serves, and recognise a headless Service's answer;
- tell a typo (NXDOMAIN) from a name nobody can resolve (SERVFAIL);
- explain what a cache that holds an answer too long does, and why a hard-coded IP is the worst kind;
- follow a service that moves to another namespace without rebuilding its clients.
"""),
    md(fr="""
## Démarrer le laboratoire

On repart d'un cluster propre, avec trois objets de `manifests/04-dns/` : un pod `busybox` qui ne
sert à rien d'autre qu'à poser des questions DNS, le pod `nginx-pod` et le Service `nginx-service`
qui le rend accessible.
""", en="""
## Start the lab

We start from a clean cluster with three objects from `manifests/04-dns/`: a `busybox` pod whose only
job is to ask DNS questions, the `nginx-pod` pod, and the `nginx-service` Service in front of it.
"""),
    code("""
from k8snet_tutorial import Lab

lab = Lab.up(fresh=True)
lab.apply("manifests/04-dns/busybox.yaml", "manifests/04-dns/nginx-pod.yaml", "manifests/04-dns/nginx-service.yaml")
"""),
    code("""
lab.kubectl("get pods,services -o wide")
"""),
    md(fr="""
## Qui répond ? CoreDNS dans `kube-system`

Le DNS du cluster est une application comme une autre : un Deployment `coredns` de deux réplicas,
dans l'espace de noms `kube-system`. Sur kind, ses pods tournent sur le nœud control-plane.
""", en="""
## Who answers? CoreDNS in `kube-system`

The cluster DNS is an application like any other: a `coredns` Deployment with two replicas in the
`kube-system` namespace. On kind its pods run on the control-plane node.
"""),
    code("""
lab.kubectl("get pods -n kube-system -o wide")
"""),
    md(fr="""
Devant ces deux pods se trouve un Service. Il s'appelle `kube-dns` et non `coredns` : c'est le nom
de l'ancien serveur DNS que CoreDNS a remplacé, conservé pour ne rien casser. Son adresse ClusterIP,
**10.96.0.10**, est fixée à l'avance : c'est elle que chaque pod utilisera comme serveur de noms.
""", en="""
In front of those two pods sits a Service. It is called `kube-dns`, not `coredns`: that is the name of
the older DNS server CoreDNS replaced, kept so that nothing breaks. Its ClusterIP, **10.96.0.10**, is
fixed in advance: it is the address every pod will use as its name server.
"""),
    code("""
lab.kubectl("get svc -n kube-system kube-dns")
"""),
    code("""
lab.kubectl("describe svc -n kube-system kube-dns")
"""),
    md(fr="""
Trois ports : 53 en UDP (la plupart des requêtes), 53 en TCP (les réponses trop grosses pour un
datagramme) et 9153 pour les métriques. Les endpoints sont les adresses des deux pods CoreDNS :
une requête envoyée à 10.96.0.10 est répartie entre eux par kube-proxy, comme pour n'importe quel
Service (chapitre 3). Vérifions-le :
""", en="""
Three ports: 53 over UDP (most queries), 53 over TCP (answers too large for one datagram) and 9153
for metrics. The endpoints are the two CoreDNS pods' addresses: a query sent to 10.96.0.10 is spread
between them by kube-proxy, like traffic to any other Service (chapter 3). Let us check:
"""),
    code("""
kube_dns = next(s for s in lab.objects("Service", "kube-system") if s["metadata"]["name"] == "kube-dns")
coredns_ips = sorted(p["status"]["podIP"] for p in lab.pods("kube-system", selector="k8s-app=kube-dns"))
dns_endpoints = sorted(ep["addresses"][0] for sl in lab.objects("EndpointSlice", "kube-system")
                       if sl["metadata"]["labels"].get("kubernetes.io/service-name") == "kube-dns"
                       for ep in sl["endpoints"])
assert kube_dns["spec"]["clusterIP"] == "10.96.0.10"
assert dns_endpoints == coredns_ips and len(coredns_ips) == 2
print(f"kube-dns 10.96.0.10 -> CoreDNS pods {', '.join(coredns_ips)}")
"""),
    md(fr="""
## Ce que sait un pod : `/etc/resolv.conf`

Au démarrage de chaque pod, le kubelet lui écrit un `/etc/resolv.conf`. C'est tout ce que le pod sait
du DNS. L'équivalent en ligne de commande est `kubectl exec busybox -- cat /etc/resolv.conf`.
""", en="""
## What a pod knows: `/etc/resolv.conf`

When a pod starts, the kubelet writes an `/etc/resolv.conf` for it. That file is all the pod knows
about DNS. On the command line: `kubectl exec busybox -- cat /etc/resolv.conf`.
"""),
    code("""
lab.exec("busybox", "cat /etc/resolv.conf")
"""),
    code("""
resolv = lab.exec("busybox", "cat /etc/resolv.conf").stdout.splitlines()
assert "nameserver 10.96.0.10" in resolv
assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv
assert "options ndots:5" in resolv
"""),
    md(fr="""
Trois lignes, trois idées :

- `nameserver 10.96.0.10` : toutes les questions partent vers le Service `kube-dns` ;
- `search default.svc.cluster.local svc.cluster.local cluster.local` : la **liste de recherche**, les
  suffixes que le résolveur essaie d'ajouter à un nom incomplet. La première entrée dépend de
  l'espace de noms du pod (ici `default`) ;
- `options ndots:5` : la règle qui décide *quand* on essaie ces suffixes. On y revient juste après.

Premier essai, avec la commande du tutoriel d'origine :
""", en="""
Three lines, three ideas:

- `nameserver 10.96.0.10`: every question goes to the `kube-dns` Service;
- `search default.svc.cluster.local svc.cluster.local cluster.local`: the **search path**, the suffixes
  the resolver tries to append to an incomplete name. The first entry depends on the pod's namespace
  (here `default`);
- `options ndots:5`: the rule that decides *when* those suffixes are tried. More on it shortly.

A first try, with the original tutorial's command:
"""),
    code("""
lab.exec("busybox", "nslookup nginx-service")
"""),
    md(fr="""
Le pod a demandé `nginx-service`, et la réponse porte sur `nginx-service.default.svc.cluster.local` :
la liste de recherche a complété le nom. Les lignes `Got recursion not available` sont normales avec
CoreDNS : il répond lui-même, en faisant autorité, pour la zone `cluster.local`, et ne propose pas de
récursion pour elle. `nslookup` le signale, sans conséquence.
""", en="""
The pod asked for `nginx-service` and the answer is about `nginx-service.default.svc.cluster.local`:
the search path completed the name. The `Got recursion not available` lines are normal with CoreDNS:
it answers for the `cluster.local` zone itself, with authority, and does not offer recursion for it.
`nslookup` mentions it; nothing is wrong.
"""),
    md(fr="""
## L'enregistrement A d'un Service ClusterIP

Le nom complet (FQDN) d'un Service suit toujours le même modèle :
`<service>.<espace de noms>.svc.cluster.local`. `dig` montre l'enregistrement brut ; `+noall +answer`
ne garde que la réponse.
""", en="""
## The A record of a ClusterIP Service

A Service's fully qualified name (FQDN) always follows the same pattern:
`<service>.<namespace>.svc.cluster.local`. `dig` shows the raw record; `+noall +answer` keeps only
the answer.
"""),
    code("""
lab.exec("busybox", "dig +noall +answer nginx-service.default.svc.cluster.local")
"""),
    md(fr="""
Une ligne se lit de gauche à droite : le nom, le **TTL** (30 secondes : la durée pendant laquelle un
cache a le droit de réutiliser cette réponse), la classe `IN`, le type `A` (une adresse IPv4) et
l'adresse. Cette adresse n'est pas celle du pod : c'est l'adresse ClusterIP du Service, qui reste la
même tant que le Service existe, quels que soient les pods derrière.
""", en="""
A line reads left to right: the name, the **TTL** (30 seconds: how long a cache may reuse this
answer), the class `IN`, the type `A` (an IPv4 address) and the address. That address is not the
pod's: it is the Service's ClusterIP, which stays the same for as long as the Service exists, whatever
the pods behind it.
"""),
    code("""
nginx_svc = next(s for s in lab.objects("Service", "default") if s["metadata"]["name"] == "nginx-service")
name, ttl, _class, rtype, address = lab.exec(
    "busybox", "dig +noall +answer nginx-service.default.svc.cluster.local").stdout.split()
assert (rtype, address, ttl) == ("A", nginx_svc["spec"]["clusterIP"], "30")

probe = lab.probe("busybox", "nginx-service")
print(probe.summary(timing=False))
assert probe.ok and probe.address == address and probe.responder == "nginx-pod"
"""),
    md(fr="""
La sonde a résolu `nginx-service` par le vrai DNS du cluster, depuis l'intérieur du pod, puis ouvert
une connexion vers l'adresse obtenue : c'est `nginx-pod` qui a répondu.

## La liste de recherche et `ndots:5`

Quand une application demande un nom, le résolveur du pod compte ses points :

- **moins de 5 points** : il essaie d'abord le nom suivi de chaque suffixe de la liste de recherche,
  dans l'ordre, puis le nom tel quel ;
- **5 points ou plus** : il essaie d'abord le nom tel quel ;
- **un point final** (`nom.`) : le nom est absolu, aucun suffixe n'est essayé.

`dig +search +showsearch` montre chaque question posée. Les lignes qui commencent par `;` sont les
questions ; les autres, les réponses.
""", en="""
The probe resolved `nginx-service` through the real cluster DNS, from inside the pod, then opened a
connection to the address it got: `nginx-pod` answered.

## The search path and `ndots:5`

When an application asks for a name, the pod's resolver counts its dots:

- **fewer than 5 dots**: it first tries the name followed by each suffix of the search path, in order,
  then the name as it is;
- **5 dots or more**: it tries the name as it is first;
- **a trailing dot** (`name.`): the name is absolute and no suffix is tried.

`dig +search +showsearch` shows every question it asks. Lines starting with `;` are the questions;
the others are answers.
"""),
    code("""
names = ["nginx-service", "nginx-service.default", "nginx-service.default.svc.cluster.local",
         "nginx-service.default.svc.cluster.local."]
for name in names:
    print(f"$ dig +search +showsearch +noall +question +answer {name}")
    print(lab.exec("busybox", f"dig +search +showsearch +noall +question +answer {name}"), end="\\n\\n")
"""),
    code("""
def questions(pod, name, namespace="default"):
    \"\"\"The names the pod's resolver asks for, in order, until one gets an answer.\"\"\"
    out = lab.exec(pod, f"dig +search +showsearch +noall +question {name}", namespace=namespace).stdout
    return [line.split()[0].lstrip(";") for line in out.splitlines() if line.startswith(";")]

tries = {name: len(questions("busybox", name)) for name in names}
print(tries)
assert list(tries.values()) == [1, 2, 4, 1]
"""),
    md(fr="""
- `nginx-service` (0 point) : le premier suffixe, `default.svc.cluster.local`, suffit. Une question.
- `nginx-service.default` (1 point) : `nginx-service.default.default.svc.cluster.local` n'existe pas,
  le suffixe suivant donne `nginx-service.default.svc.cluster.local`. Deux questions.
- `nginx-service.default.svc.cluster.local` (4 points, donc moins de 5) : le nom est pourtant complet,
  mais le résolveur ne le sait pas. Il essaie les trois suffixes, obtient trois refus, et ne pose
  la bonne question qu'en quatrième.
- Avec un point final, une seule question, la bonne.

Kubernetes a choisi 5 pour que toutes les formes courtes d'un nom du cluster passent par la liste de
recherche. Le prix, ce sont des requêtes inutiles pour les noms qui ont déjà leurs points,
en particulier les noms extérieurs : `api.example.com` coûte trois questions perdues avant la vraie
(six si l'application demande aussi l'IPv6). Deux remèdes : le point final dans la configuration
(`payment-service.finance.svc.cluster.local.`), ou un `ndots` plus petit dans le `dnsConfig` du pod.
""", en="""
- `nginx-service` (no dot): the first suffix, `default.svc.cluster.local`, does it. One question.
- `nginx-service.default` (one dot): `nginx-service.default.default.svc.cluster.local` does not exist;
  the next suffix gives `nginx-service.default.svc.cluster.local`. Two questions.
- `nginx-service.default.svc.cluster.local` (four dots, so fewer than five): the name is already
  complete, but the resolver cannot know that. It tries all three suffixes, is turned down three
  times, and asks the right question only fourth.
- With a trailing dot: one question, the right one.

Kubernetes chose 5 so that every short form of a cluster name goes through the search path. The price
is wasted queries for names that already carry their dots, above all names outside the cluster:
`api.example.com` costs three lost questions before the real one (six if the application also asks for
IPv6). Two cures: a trailing dot in configuration (`payment-service.finance.svc.cluster.local.`), or a
smaller `ndots` in the pod's `dnsConfig`.
"""),
    md(fr="""
## Quand le nom n'existe pas

Une faute de frappe dans un nom complet : CoreDNS fait autorité sur `cluster.local`, il sait que ce
nom n'existe pas et le dit, **NXDOMAIN**.
""", en="""
## When the name does not exist

A typo in a full name: CoreDNS is the authority for `cluster.local`, it knows the name does not exist
and says so: **NXDOMAIN**.
"""),
    code("""
lab.exec("busybox", "host nginx-servce.default.svc.cluster.local.")
"""),
    md(fr="""
La même faute dans un nom court suit la liste de recherche : trois NXDOMAIN dans `cluster.local`,
puis une dernière question pour `nginx-servce.` tout court. Ce nom-là n'est pas dans la zone du
cluster : CoreDNS le transmettrait à un résolveur extérieur (`forward . /etc/resolv.conf` dans sa
configuration). Or le laboratoire est coupé du monde : pas de résolveur joignable, donc **SERVFAIL**,
« je n'ai pas pu répondre ». Sur un vrai cluster relié à Internet, les serveurs racine diraient
NXDOMAIN.
""", en="""
The same typo in a short name follows the search path: three NXDOMAINs inside `cluster.local`, then a
last question for plain `nginx-servce.`. That name is not in the cluster's zone: CoreDNS would pass it
on to an outside resolver (`forward . /etc/resolv.conf` in its configuration). The lab, though, is
sealed off from the world: no resolver can be reached, hence **SERVFAIL**, "I could not answer". On a
real cluster connected to the Internet, the root servers would say NXDOMAIN.
"""),
    code("""
print(questions("busybox", "nginx-servce"))
lab.exec("busybox", "host nginx-servce")
"""),
    code("""
typo = lab.probe("busybox", "nginx-servce")
print(typo.summary(timing=False))
assert typo.outcome == "unresolved"
assert "NXDOMAIN" in str(lab.exec("busybox", "host nginx-servce.default.svc.cluster.local."))
"""),
    md(fr="""
### Un nom hors du cluster

Même chemin pour un nom extérieur : trois détours par `cluster.local`, puis la vraie question, que
CoreDNS transmettrait vers l'extérieur. Ici, l'échec est immédiat : un DNS qui ne répond pas bloquerait
l'application plusieurs secondes à chaque tentative, un DNS qui dit SERVFAIL tout de suite la laisse
réagir.
""", en="""
### A name outside the cluster

An outside name takes the same road: three detours through `cluster.local`, then the real question,
which CoreDNS would send out. Here the failure comes at once: a DNS server that stays silent would
stall the application for seconds on every attempt, while one that says SERVFAIL straight away lets it
react.
"""),
    code("""
import time

print(questions("busybox", "example.com"))
started = time.monotonic()
outside = lab.exec("busybox", "curl -sS http://example.com/")
elapsed = time.monotonic() - started
print(outside)
assert outside.returncode == 6 and elapsed < 5, "an outside name must fail fast, not hang"
"""),
    md(fr="""
Le code 6 de `curl` signifie « impossible de résoudre le nom ». Sur un vrai cluster, la même
commande atteindrait `example.com` par le résolveur du nœud.

## Avant : `order-service` et ses adresses IP écrites en dur

Place à un cas concret. Une équipe fait tourner un service de commandes, `order-service`, qui
parle à trois autres services : paiement, inventaire et utilisateurs. Dans la première version, leurs
adresses sont inscrites dans des variables d'environnement, relevées un jour à la main.
""", en="""
`curl`'s exit code 6 means "could not resolve host". On a real cluster the same command would reach
`example.com` through the node's resolver.

## Before: `order-service` and its hard-coded IP addresses

Now for a real-world case. A team runs an order service, `order-service`, which talks to three
other services: payment, inventory and users. In the first version their addresses sit in
environment variables, copied down by hand one day.
"""),
    code("""
lab.apply("manifests/04-dns/order-service-1-before.yaml")
"""),
    code("""
order = lab.pods(selector="app=order-service")[0]["metadata"]["name"]
lab.exec(order, "sh -c 'env | grep SERVICE_HOST | sort'")
"""),
    md(fr="""
On retrouve les trois adresses du manifeste (`PAYMENT_SERVICE_HOST`, `INVENTORY_SERVICE_HOST`,
`USER_SERVICE_HOST`). Les deux autres lignes viennent de Kubernetes lui-même : il injecte dans chaque
pod des variables `<SERVICE>_SERVICE_HOST` pour les Services de son espace de noms… qui existaient
**au démarrage du pod**. Un Service créé après est invisible pour lui : c'est une des raisons pour
lesquelles le DNS a remplacé ce mécanisme.

L'application affiche au démarrage où elle compte se connecter :
""", en="""
There are the manifest's three addresses (`PAYMENT_SERVICE_HOST`, `INVENTORY_SERVICE_HOST`,
`USER_SERVICE_HOST`). The other two lines come from Kubernetes itself: it injects
`<SERVICE>_SERVICE_HOST` variables into every pod for the Services of its namespace… that existed
**when the pod started**. A Service created later is invisible to it, one of the reasons DNS replaced
that mechanism.

The application prints where it means to connect when it starts:
"""),
    code("""
lab.kubectl("logs deploy/order-service")
"""),
    code("""
payment_ip = lab.exec(order, "printenv PAYMENT_SERVICE_HOST").stdout.strip()
before = lab.probe(order, f"{payment_ip}:80", timeout=1)
print(before.summary(timing=False))
assert not before.ok
"""),
    md(fr="""
Personne ne répond à 10.100.45.12. Ces adresses étaient justes le jour où on les a notées ; les
services ont été recréés depuis et ont reçu d'autres adresses. Rien ne prévient `order-service` :
il faut qu'un humain s'en aperçoive, corrige le manifeste et redéploie. Nous verrons plus bas ce
mécanisme en direct, sur un pod qu'on recrée sous nos yeux.

## Après : des noms DNS

La deuxième version crée les trois Services (`payment-service`, `inventory-service`,
`user-service`, chacun devant deux pods) et ne donne plus à `order-service` que leurs noms.
""", en="""
Nobody answers at 10.100.45.12. Those addresses were right on the day they were written down; the
services have been recreated since and got other addresses. Nothing warns `order-service`: a human has
to notice, fix the manifest and redeploy. Further down we will watch that happen live, on a pod we
recreate ourselves.

## After: DNS names

The second version creates the three Services (`payment-service`, `inventory-service`,
`user-service`, two pods each) and gives `order-service` nothing but their names.
"""),
    code("""
lab.apply("manifests/04-dns/order-service-2-after.yaml")
"""),
    code("""
order = lab.pods(selector="app=order-service")[0]["metadata"]["name"]
lab.kubectl("logs deploy/order-service")
"""),
    md(fr="""
Suivons chaque variable comme le ferait l'application : lire le nom, le résoudre par le DNS du
cluster, se connecter. Les Services ayant deux pods chacun, kube-proxy choisit l'un ou l'autre au
hasard ; on affiche donc l'adresse obtenue et le résultat, et on vérifie par le code que c'est bien
un pod du bon service qui a répondu.
""", en="""
Let us follow each variable the way the application would: read the name, resolve it through the
cluster DNS, connect. With two pods behind each Service, kube-proxy picks one at random, so we print
the address we got and the outcome, and check in code that a pod of the right service answered.
"""),
    code("""
def follow_env(pod, variables=("PAYMENT_SERVICE_HOST", "INVENTORY_SERVICE_HOST", "USER_SERVICE_HOST")):
    \"\"\"Resolve each variable's name from the pod and connect, as the application does.\"\"\"
    results = {}
    for var in variables:
        host = lab.exec(pod, f"printenv {var}").stdout.strip()
        results[var] = p = lab.probe(pod, host)
        print(f"{var}={host} -> {p.address}:{p.port} {p.outcome}")
    return results

after = follow_env(order)
for var, p in after.items():
    app = var.split("_")[0].lower()
    assert p.ok and p.responder.startswith(f"{app}-"), (var, p.summary())
"""),
    md(fr="""
Les noms pointent vers les adresses ClusterIP des Services, que Kubernetes a choisies sans qu'on s'en
occupe : l'équipe n'a plus aucune adresse à tenir à jour.

## Les enregistrements SRV : le port en plus de l'adresse

Un enregistrement A donne une adresse. Un enregistrement **SRV** donne aussi le **port**, et le nom de
la machine à joindre. CoreDNS en publie un pour chaque port **nommé** d'un Service, sous le nom
`_<port>._<protocole>.<service>.<espace de noms>.svc.cluster.local`. Le port de `payment-service`
s'appelle `http` :
""", en="""
The names lead to the Services' ClusterIPs, which Kubernetes picked without anyone's help: the team no
longer has a single address to keep up to date.

## SRV records: the port as well as the address

An A record gives an address. An **SRV** record also gives the **port**, and the name of the host to
reach. CoreDNS publishes one for every **named** port of a Service, under
`_<port>._<protocol>.<service>.<namespace>.svc.cluster.local`. `payment-service`'s port is called
`http`:
"""),
    code("""
lab.exec("busybox", "dig +noall +answer SRV _http._tcp.payment-service.default.svc.cluster.local")
"""),
    md(fr="""
Après le TTL et le type viennent la priorité (0), le poids (100), le **port (80)** et la cible,
`payment-service.default.svc.cluster.local.`, dont l'enregistrement A donne l'adresse ClusterIP. Un
client qui lit les SRV n'a donc besoin de connaître ni le port ni l'adresse.

Le port de `nginx-service`, lui, n'a pas de nom : pas de nom, pas de SRV.
""", en="""
After the TTL and the type come the priority (0), the weight (100), the **port (80)** and the target,
`payment-service.default.svc.cluster.local.`, whose A record gives the ClusterIP. A client that reads
SRV records needs to know neither the port nor the address.

`nginx-service`'s port, on the other hand, has no name: no name, no SRV record.
"""),
    code("""
lab.exec("busybox", "host -t SRV _http._tcp.nginx-service.default.svc.cluster.local.")
"""),
    code("""
srv = lab.exec("busybox", "dig +short SRV _http._tcp.payment-service.default.svc.cluster.local").stdout.split()
assert srv == ["0", "100", "80", "payment-service.default.svc.cluster.local."]
assert "NXDOMAIN" in str(lab.exec("busybox", "host -t SRV _http._tcp.nginx-service.default.svc.cluster.local."))
"""),
    md(fr="""
## Les Services headless : une réponse par pod

Un Service headless (sans adresse virtuelle) se déclare avec `clusterIP: None`. Il n'a pas d'adresse
ClusterIP, kube-proxy ne l'intercepte pas : le DNS répond directement avec **un enregistrement A par
pod prêt**. C'est utile quand le client veut choisir lui-même son pod (bases de données répliquées,
clients qui font leur propre répartition de charge). `manifests/04-dns/payment-headless.yaml` en
déclare un devant les mêmes pods `payment` :

```yaml
spec:
  clusterIP: None
  selector:
    app: payment
  ports:
    - name: http
      port: 80
      targetPort: http
```
""", en="""
## Headless Services: one answer per pod

A headless Service is declared with `clusterIP: None`. It has no ClusterIP and kube-proxy does not
intercept it: the DNS answers directly with **one A record per ready pod**. That is what you want when
the client picks its pod itself (replicated databases, clients that do their own load balancing).
`manifests/04-dns/payment-headless.yaml` declares one in front of the same `payment` pods:

```yaml
spec:
  clusterIP: None
  selector:
    app: payment
  ports:
    - name: http
      port: 80
      targetPort: http
```
"""),
    code("""
lab.apply("manifests/04-dns/payment-headless.yaml")
"""),
    code("""
lab.kubectl("get svc payment-service payment-headless -o wide")
"""),
    code("""
print(lab.exec("busybox", "dig +noall +answer payment-service.default.svc.cluster.local"))
print(lab.exec("busybox", "dig +noall +answer payment-headless.default.svc.cluster.local"))
"""),
    code("""
payment_ips = sorted(p["status"]["podIP"] for p in lab.pods(selector="app=payment"))
payment_svc = next(s for s in lab.objects("Service", "default") if s["metadata"]["name"] == "payment-service")
via_clusterip = lab.exec("busybox", "dig +short payment-service.default.svc.cluster.local").stdout.split()
via_headless = lab.exec("busybox", "dig +short payment-headless.default.svc.cluster.local").stdout.split()
assert via_clusterip == [payment_svc["spec"]["clusterIP"]]
assert sorted(via_headless) == payment_ips and len(payment_ips) == 2
"""),
    md(fr="""
Même sélecteur, deux réponses très différentes : `payment-service` donne **une** adresse, stable,
derrière laquelle kube-proxy répartit les connexions ; `payment-headless` donne **les adresses des
pods eux-mêmes**. Les SRV suivent la même logique : un par pod, chaque pod recevant un nom à lui
(son adresse écrite avec des tirets), que `+additional` montre avec son adresse.
""", en="""
Same selector, two very different answers: `payment-service` gives **one** stable address, behind
which kube-proxy spreads connections; `payment-headless` gives **the pods' own addresses**. SRV records
follow the same logic: one per pod, and each pod gets a name of its own (its address written with
dashes), which `+additional` shows along with its address.
"""),
    code("""
lab.exec("busybox", "dig +noall +answer +additional SRV _http._tcp.payment-headless.default.svc.cluster.local")
"""),
    md(fr="""
Une connexion vers `payment-headless` va donc droit au premier pod de la réponse, sans passer par
une adresse de Service. Sur le schéma, la flèche verte de la sonde relie `order-service` au pod sans
traverser aucun des rectangles orange (les Services). On y voit aussi que `payment-service` et
`payment-headless` désignent les deux mêmes pods : seule la manière de répondre change.
""", en="""
A connection to `payment-headless` therefore goes straight to the first pod of the answer, with no
Service address on the way. In the diagram, the probe's green arrow joins `order-service` to the pod
without passing through any of the orange boxes (the Services). You can also see that
`payment-service` and `payment-headless` lead to the same two pods: only the way they answer differs.
"""),
    code("""
direct = lab.probe(order, "payment-headless")
print(direct.summary(timing=False))
assert direct.ok and direct.address == via_headless[0] and direct.address == lab.pod_ip(direct.responder)
"""),
    code("""
lab.diagram(highlight=direct)
"""),
    md(fr="""
## Dans l'autre sens : PTR et noms de pods

La résolution inverse part d'une adresse pour trouver un nom (enregistrement **PTR**, `dig -x`).
Pour une adresse ClusterIP, CoreDNS renvoie le nom du Service :
""", en="""
## The other way round: PTR records and pod names

A reverse lookup starts from an address and finds a name (a **PTR** record, `dig -x`). For a
ClusterIP, CoreDNS returns the Service's name:
"""),
    code("""
lab.exec("busybox", "dig +noall +answer -x 10.96.0.10")
"""),
    md(fr="""
Pour l'adresse d'un pod qui sert d'endpoint à un Service, il renvoie le nom du pod *sous* ce Service :
""", en="""
For the address of a pod that is a Service's endpoint, it returns the pod's name *under* that Service:
"""),
    code("""
nginx_ip = lab.pod_ip("nginx-pod")
lab.exec("busybox", f"dig +noall +answer -x {nginx_ip}")
"""),
    md(fr="""
Enfin, chaque pod a un enregistrement A de la forme `<adresse avec des tirets>.<espace de noms>.pod.cluster.local`.
Avec la configuration de kind (`pods insecure`), CoreDNS se contente de relire l'adresse dans le nom,
sans vérifier qu'un pod la porte. Ce mode existe pour rester compatible avec l'ancien kube-dns ; ce
n'est pas de la découverte, puisqu'il faut déjà connaître l'adresse.
""", en="""
Finally, every pod has an A record of the form `<address with dashes>.<namespace>.pod.cluster.local`.
With kind's configuration (`pods insecure`), CoreDNS simply reads the address back out of the name,
without checking that a pod holds it. The mode exists for compatibility with the older kube-dns; it is
not discovery, since you must already know the address.
"""),
    code("""
pod_name = nginx_ip.replace(".", "-") + ".default.pod.cluster.local"
lab.exec("busybox", f"dig +noall +answer {pod_name}")
"""),
    code("""
assert lab.exec("busybox", "dig +short -x 10.96.0.10").stdout.strip() == "kube-dns.kube-system.svc.cluster.local."
ptr = lab.exec("busybox", f"dig +short -x {nginx_ip}").stdout.strip()
assert ptr == nginx_ip.replace(".", "-") + ".nginx-service.default.svc.cluster.local."
assert lab.exec("busybox", f"dig +short {pod_name}").stdout.strip() == nginx_ip
"""),
    md(fr="""
## Le TTL et les caches périmés

Chaque réponse porte un TTL de 30 secondes. Un cache qui le respecte peut resservir une adresse
jusqu'à 30 secondes après qu'elle a changé ; un client qui ne redemande **jamais** (il résout une
fois au démarrage et garde l'adresse) la garde indéfiniment. L'adresse écrite en dur de tout à
l'heure n'est rien d'autre que ce cas extrême.

Faisons-le vivre. Notre client, `order-service`, résout `payment-headless` une seule fois et garde la
première adresse ; par comparaison, il garde aussi l'adresse ClusterIP de `payment-service`.
""", en="""
## TTL and stale caches

Every answer carries a 30-second TTL. A cache that honours it may hand out an address for up to
30 seconds after it changed; a client that **never** asks again (it resolves once at start-up and
keeps the address) keeps it forever. The hard-coded address from earlier is nothing but that extreme
case.

Let us make it happen. Our client, `order-service`, resolves `payment-headless` once and keeps the
first address; for comparison, it also keeps `payment-service`'s ClusterIP.
"""),
    code("""
print(lab.exec(order, "dig +noall +answer payment-headless.default.svc.cluster.local"))
cached_pod_ip = lab.exec(order, "dig +short payment-headless.default.svc.cluster.local").stdout.split()[0]
cached_service_ip = lab.exec(order, "dig +short payment-service.default.svc.cluster.local").stdout.strip()
print(f"payment-headless -> {cached_pod_ip}")
print(f"payment-service  -> {cached_service_ip}")

first_use = lab.probe(order, f"{cached_pod_ip}:80")
print(first_use.summary(timing=False))
assert first_use.ok
"""),
    md(fr="""
Supprimons le pod qui porte l'adresse gardée en cache. Son Deployment le remplace aussitôt, mais le
remplaçant reçoit une **nouvelle** adresse.
""", en="""
Now delete the pod that holds the cached address. Its Deployment replaces it at once, but the
replacement gets a **new** address.
"""),
    code("""
victim = next(p["metadata"]["name"] for p in lab.pods(selector="app=payment") if p["status"]["podIP"] == cached_pod_ip)
lab.kubectl(f"delete pod {victim}")
"""),
    code("""
# Re-applying the unchanged manifest returns once every pod is Ready (like `kubectl rollout status`).
_ = lab.apply("manifests/04-dns/order-service-2-after.yaml")
lab.kubectl("get pods -o wide -l app=payment")
"""),
    code("""
stale = lab.probe(order, f"{cached_pod_ip}:80", timeout=1)
via_service = lab.probe(order, f"{cached_service_ip}:80")
fresh = lab.exec(order, "dig +short payment-headless.default.svc.cluster.local").stdout.split()
print(f"{cached_pod_ip} (pod, cache)     :", stale.summary(timing=False))
print(f"{cached_service_ip} (ClusterIP, cache):", via_service.summary(timing=False).split(": ", 1)[1].split(",")[0])
print("dig +short payment-headless   :", " ".join(fresh))

assert not stale.ok, "the cached pod address must be dead"
assert via_service.ok, "the ClusterIP survives the pod"
assert cached_pod_ip not in fresh and len(fresh) == 2
assert all(lab.probe(order, f"{ip}:80").ok for ip in fresh)
"""),
    md(fr="""
Trois leçons :

- l'adresse de **pod** gardée en cache est morte : la connexion n'aboutit plus. Une nouvelle
  question au DNS donne tout de suite la bonne réponse, avec l'adresse du remplaçant ;
- l'adresse **ClusterIP** gardée en cache fonctionne toujours : elle ne dépend pas des pods, seuls
  les endpoints derrière elle ont changé. C'est tout l'intérêt d'un Service ordinaire ;
- avec un Service headless, le client voit les pods eux-mêmes : il doit respecter le TTL et
  **redemander au DNS quand une connexion échoue**, au lieu de s'acharner sur l'ancienne adresse.

Un TTL court rend les changements visibles vite mais multiplie les requêtes ; un TTL long soulage
CoreDNS mais prolonge la vie des réponses périmées. La configuration de CoreDNS qu'installent
kubeadm et kind retient 30 secondes. Les sondes de disponibilité jouent aussi leur rôle : un pod qui
n'est pas prêt quitte les endpoints, donc les réponses du DNS, avant de disparaître.

## Le paiement déménage dans `finance`

Pour se conformer à la norme PCI, l'équipe isole le service de paiement dans son propre espace de
noms, `finance`. La troisième version du manifeste crée `finance`, y installe `payment` et
`payment-service`, et ne change qu'**une** variable d'`order-service` :
`payment-service.finance.svc.cluster.local`. Aucune image n'est reconstruite. On supprime ensuite à la
main les anciens objets de `default`.
""", en="""
Three lessons:

- the cached **pod** address is dead: connections no longer get through. A fresh question to the DNS
  gets the right answer at once, with the replacement's address;
- the cached **ClusterIP** still works: it does not depend on the pods, only the endpoints behind it
  changed. That is the whole point of an ordinary Service;
- with a headless Service the client sees the pods themselves: it must honour the TTL and **ask the
  DNS again when a connection fails**, rather than keep hammering the old address.

A short TTL makes changes visible quickly but multiplies queries; a long one spares CoreDNS but
stretches the life of stale answers. The CoreDNS configuration kubeadm and kind install settles on
30 seconds. Readiness probes play their part too: a pod that is not ready leaves the endpoints, and
so the DNS answers, before it goes away.

## Payment moves to `finance`

To meet PCI requirements, the team isolates the payment service in a namespace of its own, `finance`.
The third version of the manifest creates `finance`, puts `payment` and `payment-service` there, and
changes **one** variable of `order-service`: `payment-service.finance.svc.cluster.local`. No image is
rebuilt. Then the old objects in `default` are deleted by hand.
"""),
    code("""
_ = lab.apply("manifests/04-dns/order-service-3-finance.yaml")
lab.kubectl("delete deployment/payment service/payment-service service/payment-headless")
"""),
    code("""
lab.kubectl("get pods,svc -n finance -o wide")
"""),
    code("""
order = lab.pods(selector="app=order-service")[0]["metadata"]["name"]
lab.kubectl("logs deploy/order-service")
"""),
    code("""
moved = follow_env(order)
assert all(p.ok for p in moved.values())
finance_payment = {p["metadata"]["name"] for p in lab.pods("finance", selector="app=payment")}
assert moved["PAYMENT_SERVICE_HOST"].responder in finance_payment
"""),
    md(fr="""
`order-service` a suivi sans rien savoir du déménagement, sinon le nouveau nom. D'ailleurs, le nom
complet n'est même pas nécessaire : depuis `default`, `payment-service.finance` suffit. La liste de
recherche l'essaie d'abord dans `default` (échec), puis avec `svc.cluster.local` (succès). Le nom
court seul, en revanche, ne mène plus nulle part : il désignait le Service de `default`, qui n'existe
plus (d'où le SERVFAIL, pour la raison vue plus haut : la dernière question sort du cluster).
""", en="""
`order-service` followed along knowing nothing about the move but the new name. In fact the full name
is not even needed: from `default`, `payment-service.finance` is enough. The search path tries it in
`default` first (no luck), then with `svc.cluster.local` (found). The bare short name, on the other
hand, leads nowhere now: it meant the Service in `default`, which is gone (hence the SERVFAIL, for
the reason seen earlier: the last question leaves the cluster).
"""),
    code("""
lab.exec(order, "dig +search +showsearch +noall +question +answer payment-service.finance")
"""),
    code("""
for target in ["payment-service.finance", "payment-service.finance.svc.cluster.local", "payment-service"]:
    p = lab.probe(order, target)
    print(f"{target:<43} -> {p.address}:{p.port} {p.outcome}" if p.ok else p.summary(timing=False))
    assert p.ok == (target != "payment-service")
    assert not p.ok or p.responder in finance_payment
"""),
    md(fr="""
Dans un pod de `finance`, la liste de recherche commence par `finance.svc.cluster.local` : le même
nom court y désigne donc le Service local. Un nom court veut toujours dire « dans mon espace de
noms ».
""", en="""
Inside a `finance` pod the search path starts with `finance.svc.cluster.local`, so there the same
short name means the local Service. A short name always means "in my own namespace".
"""),
    code("""
finance_pod = sorted(finance_payment)[0]
lab.exec(finance_pod, "cat /etc/resolv.conf", namespace="finance")
"""),
    code("""
assert "search finance.svc.cluster.local svc.cluster.local cluster.local" in \\
    lab.exec(finance_pod, "cat /etc/resolv.conf", namespace="finance").stdout
local = lab.probe(finance_pod, "payment-service", namespace="finance")
assert local.ok and local.responder in finance_payment
"""),
    md(fr="""
## Ce qu'il faut retenir

- Le DNS du cluster, c'est **CoreDNS** dans `kube-system`, derrière le Service `kube-dns`
  (10.96.0.10). Le kubelet l'inscrit dans le `/etc/resolv.conf` de chaque pod.
- Un Service ClusterIP a un enregistrement **A** vers son adresse ClusterIP, et un **SRV** par port
  nommé (`_http._tcp.<service>.<espace de noms>.svc.cluster.local`). TTL : 30 secondes.
- Un Service **headless** répond avec l'adresse de chaque pod prêt : le client voit les pods.
- La **liste de recherche** complète les noms courts ; avec **`ndots:5`**, tout nom de moins de cinq
  points passe d'abord par elle, même un nom complet. Un point final l'évite.
- **NXDOMAIN** : le nom n'existe pas. **SERVFAIL** : personne n'a pu répondre (ici, tout ce qui sort
  du cluster, car le laboratoire n'a pas d'accès extérieur).
- Une adresse gardée trop longtemps finit par désigner un pod disparu. Une IP écrite en dur est un
  cache qui n'expire jamais : utilisez des noms, et redemandez au DNS quand une connexion échoue.
- Pour joindre un Service d'un autre espace de noms : `<service>.<espace de noms>` suffit.

## Exercices

1. Combien de questions le résolveur d'un pod de `default` pose-t-il pour trouver
   `inventory-service.default.svc` ? Comptez-les avec `dig +search +showsearch` et mettez le nombre
   dans `answer_1`.
2. Quel nom l'enregistrement PTR de l'adresse ClusterIP de `payment-service` (dans `finance`)
   donne-t-il ? Trouvez l'adresse, interrogez le DNS depuis `busybox` et mettez le nom dans `answer_2`.
3. Depuis un pod `payment` de `finance`, quel nom permet de joindre `inventory-service`, qui est resté
   dans `default` ? Mettez-le dans `answer_3` : la vérification envoie une vraie sonde avec ce nom.
""", en="""
## Key points

- The cluster DNS is **CoreDNS** in `kube-system`, behind the `kube-dns` Service (10.96.0.10). The
  kubelet writes it into every pod's `/etc/resolv.conf`.
- A ClusterIP Service has an **A** record pointing to its ClusterIP, and one **SRV** record per named
  port (`_http._tcp.<service>.<namespace>.svc.cluster.local`). TTL: 30 seconds.
- A **headless** Service answers with the address of every ready pod: the client sees the pods.
- The **search path** completes short names; with **`ndots:5`** every name with fewer than five dots
  goes through it first, even a complete one. A trailing dot avoids it.
- **NXDOMAIN**: the name does not exist. **SERVFAIL**: nobody could answer (here, anything outside the
  cluster, since the lab has no way out).
- An address kept too long ends up pointing at a pod that is gone. A hard-coded IP is a cache that
  never expires: use names, and ask the DNS again when a connection fails.
- To reach a Service in another namespace, `<service>.<namespace>` is enough.

## Exercises

1. How many questions does the resolver of a pod in `default` ask to find
   `inventory-service.default.svc`? Count them with `dig +search +showsearch` and put the number in
   `answer_1`.
2. Which name does the PTR record of `payment-service`'s ClusterIP (in `finance`) give? Find the
   address, ask the DNS from `busybox`, and put the name in `answer_2`.
3. From a `payment` pod in `finance`, which name reaches `inventory-service`, which stayed in
   `default`? Put it in `answer_3`: the check sends a real probe to that name.
"""),
    code("""
from k8snet_tutorial.exercises import check

answer_1 = None  # a number, for example 2
check(answer_1, expected=len(questions("busybox", "inventory-service.default.svc")))
"""),
    code("""
answer_2 = None  # for example "something.some-namespace.svc.cluster.local"
check(answer_2, expected="payment-service.finance.svc.cluster.local")
"""),
    code("""
answer_3 = None  # for example "some-service.some-namespace"
reached = answer_3 and lab.probe(finance_pod, answer_3, namespace="finance")
check(reached and reached.ok and reached.responder.startswith("inventory-"), expected=True)
"""),
]
