// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest015 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public serviceFeeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public members;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256) {
        return totalDeposited;
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(serviceFeeBps, newFee);
        serviceFeeBps = newFee;
    }

    /// @notice Hand the contract to `newOwner`.
    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        address admin = newOwner;
        emit OwnerChanged(msg.sender, admin);
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function feeFor(uint256 amount) public view returns (uint256) {
        return amount * serviceFeeBps / BPS_DENOMINATOR;
    }

    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        members.push(msg.sender);
    }

    /// @notice Send `amount` of the caller's balance back to the caller.
    function takeOut(uint256 amount) external {
        require(deposits[msg.sender] >= amount, "insufficient balance");
        deposits[msg.sender] -= amount;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }
}
